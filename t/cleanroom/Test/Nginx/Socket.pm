# Copyright (C) 2026 The ngx_squash authors
package Test::Nginx::Socket;

# A small, clean-room stand-in for Test::Nginx::Socket (which is not
# packaged in Debian), covering what this project's t/*.t use.  t/run-suite
# puts it on @INC only when `perl -MTest::Nginx::Socket -e1` fails, so the
# real module wins wherever it is installed.
#
# Data-section format: Test::Base blocks.  Sections understood:
#   main_config http_config config init request more_headers timeout
#   error_code response_headers response_headers_like response_body
#   response_body_like response_body_filters ignore_response
#   error_log no_error_log
# Functions: run_tests repeat_each no_shuffle log_level master_on
#   add_block_preprocessor add_response_body_check bail_out no_long_string
#   env_to_nginx server_port servroot (blocks run shuffled unless
#   no_shuffle() or TEST_NGINX_NO_SHUFFLE, as in the real one)
# Environment: TEST_NGINX_BINARY TEST_NGINX_SERVROOT TEST_NGINX_PORT
#   (also exported as TEST_NGINX_SERVER_PORT) TEST_NGINX_NO_CLEAN
#   TEST_NGINX_USE_VALGRIND (suppressions from t/valgrind.suppress)
#   TEST_NGINX_SERVROOT_PER_FILE (a server root below SERVROOT per file)
#   TEST_NGINX_LOG_LEVEL; every TEST_NGINX_* variable
#   is substituted as $TEST_NGINX_NAME in configs (only there, as in the
#   real one: requests use "--- request eval" and $ENV{...})

use strict;
use warnings;

use Cwd ();
use File::Path ();
use IO::Socket::INET ();
use List::Util ();
use IO::Select ();
use POSIX ();
use Time::HiRes ();
use Test::More ();

our $VERSION = '0.01-squash';

our $NginxBinary = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $ServRoot = $ENV{TEST_NGINX_SERVROOT}
    || Cwd::cwd() . '/t/servroot';

# one server root per test file, so that a failure's logs survive the run
if ($ENV{TEST_NGINX_SERVROOT_PER_FILE}) {
    (my $file = $0) =~ s{.*/}{};
    $file =~ s/\.t$//;
    $ServRoot .= "/$file";
}
our $ServerPort = $ENV{TEST_NGINX_PORT} || 1984;
our $RepeatEach = 1;
our $LogLevel = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterOn = 0;
our $NoShuffle = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our @BlockPreprocessors;
our @ResponseBodyChecks;
our @EnvToNginx;

my $Pid;            # nginx (or valgrind) process we started
my $ValgrindLog;

my @OurExports = qw(
    run_tests repeat_each no_shuffle log_level master_on
    add_block_preprocessor add_response_body_check bail_out
    no_long_string env_to_nginx server_port servroot workers
    no_root_location
);

sub import {
    my ($class, @args) = @_;
    my $caller = caller;

    # Test::Base's (and through it Test::More's) functions for the caller
    eval "package $caller; use Test::Base; 1" or die $@;

    no strict 'refs';
    *{"${caller}::$_"} = \&{"Test::Nginx::Socket::$_"} for @OurExports;

    if (@args && $args[0] eq 'no_plan') {
        Test::More::plan('no_plan');
    }

    $ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;
    $ENV{TEST_NGINX_PORT} = $ServerPort;
    $ENV{TEST_NGINX_SERVROOT} = $ServRoot;
}

sub repeat_each { $RepeatEach = shift if @_; $RepeatEach }
sub no_shuffle { $NoShuffle = 1 }
sub log_level { $LogLevel = shift if @_; $LogLevel }
sub master_on { $MasterOn = 1 }
sub workers { }
sub no_long_string { }
sub no_root_location { }
sub server_port { $ServerPort }
sub servroot { $ServRoot }
sub env_to_nginx { push @EnvToNginx, @_ }
sub add_block_preprocessor { push @BlockPreprocessors, shift }
sub add_response_body_check { push @ResponseBodyChecks, shift }

sub bail_out {
    stop_nginx();
    Test::More::BAIL_OUT(@_);
}

sub expand_vars {
    my $s = shift;
    return $s unless defined $s;
    $s =~ s/\$(TEST_NGINX_[A-Z0-9_]+)/
        defined $ENV{$1} ? $ENV{$1} : die "$1 is not set\n"/ge;
    return $s;
}

sub write_config {
    my $block = shift;

    my $main = expand_vars($block->main_config // '');
    my $http = expand_vars($block->http_config // '');
    my $conf = expand_vars($block->config // '');
    my $env = join '', map { "env $_;\n" } @EnvToNginx;
    my $valgrind = $ENV{TEST_NGINX_USE_VALGRIND};
    my $daemon = $valgrind ? 'off' : 'on';
    my $master = $MasterOn && !$valgrind ? 'on' : 'off';

    File::Path::make_path("$ServRoot/conf", "$ServRoot/logs",
                          "$ServRoot/html", "$ServRoot/tmp");

    open my $fh, '>', "$ServRoot/conf/nginx.conf" or die $!;
    print $fh <<"END";
worker_processes 1;
daemon $daemon;
master_process $master;
error_log logs/error.log $LogLevel;
pid logs/nginx.pid;
$env
$main

events {
    accept_mutex off;
    worker_connections 256;
}

http {
    access_log logs/access.log;
    default_type text/plain;
    keepalive_timeout 68;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;

$http

    server {
        listen 127.0.0.1:$ServerPort;
        server_name localhost;
        client_max_body_size 30M;

$conf
    }
}
END
    close $fh;
}

sub wait_port {
    my $deadline = Time::HiRes::time() + (shift || 10);

    while (Time::HiRes::time() < $deadline) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $ServerPort,
                                      Proto => 'tcp');
        if ($s) {
            close $s;
            return 1;
        }
        Time::HiRes::sleep(0.02);
    }

    return 0;
}

sub start_nginx {
    my $block = shift;
    my @cmd = ($NginxBinary, '-p', "$ServRoot/", '-c', 'conf/nginx.conf');

    unlink "$ServRoot/logs/nginx.pid";

    if (IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ServerPort,
                              Proto => 'tcp'))
    {
        bail_out("port $ServerPort is taken: another nginx still runs");
    }

    if ($ENV{TEST_NGINX_USE_VALGRIND}) {
        $ValgrindLog = "$ServRoot/logs/valgrind.log";
        unlink $ValgrindLog;
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            open STDOUT, '>>', "$ServRoot/logs/stdout.log";
            open STDERR, '>&', \*STDOUT;
            my @supp = -f 't/valgrind.suppress'
                       ? ('--suppressions=t/valgrind.suppress') : ();
            exec 'valgrind', '--leak-check=full', '--error-exitcode=42',
                 '--show-possibly-lost=no', "--log-file=$ValgrindLog",
                 @supp, @cmd;
            exit 127;
        }
        $Pid = $pid;
        wait_port(60) or bail_out("nginx did not start under valgrind");
        return 1;
    }

    my $out = `@cmd 2>&1`;
    if ($? != 0) {
        Test::More::fail($block->name . " - nginx starts");
        Test::More::diag($out);
        return 0;
    }

    for (1 .. 500) {
        last if -s "$ServRoot/logs/nginx.pid";
        Time::HiRes::sleep(0.01);
    }

    open my $fh, '<', "$ServRoot/logs/nginx.pid" or return 0;
    chomp($Pid = <$fh>);
    close $fh;

    wait_port(10);
    return 1;
}

sub stop_nginx {
    return unless $Pid;

    kill 'QUIT', $Pid;

    my $deadline = Time::HiRes::time() + 30;
    while (Time::HiRes::time() < $deadline) {
        if ($ENV{TEST_NGINX_USE_VALGRIND}) {
            last if waitpid($Pid, POSIX::WNOHANG()) != 0;
        } else {
            # nginx removes its pid file as it exits (a daemon's zombie
            # may linger where nothing reaps it)
            last unless -e "$ServRoot/logs/nginx.pid" && kill 0, $Pid;
        }
        Time::HiRes::sleep(0.02);
    }

    kill 'KILL', $Pid if kill 0, $Pid;
    undef $Pid;

    # the pid file goes before the process does (its exit handlers, a
    # thread pool's threads): the next nginx waits for the port
    while (Time::HiRes::time() < $deadline
           && IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                    PeerPort => $ServerPort, Proto => 'tcp'))
    {
        Time::HiRes::sleep(0.02);
    }
}

sub read_log_from {
    my ($file, $offset) = @_;
    open my $fh, '<', $file or return '';
    seek $fh, $offset, 0;
    local $/;
    my $s = <$fh> // '';
    close $fh;
    return $s;
}

sub send_request {
    my ($block, $raw, $timeout) = @_;

    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $ServerPort,
                                     Proto => 'tcp',
                                     Timeout => $timeout)
        or return { error => "connect: $!" };

    $sock->autoflush(1);
    print $sock $raw;

    my $sel = IO::Select->new($sock);
    my $data = '';
    my $deadline = Time::HiRes::time() + $timeout;
    my $timedout = 0;

    while (1) {
        my $left = $deadline - Time::HiRes::time();
        if ($left <= 0 || !$sel->can_read($left)) {
            $timedout = 1;
            last;
        }
        my $n = sysread($sock, my $buf, 1 << 20);
        last if !$n;
        $data .= $buf;
    }

    close $sock;

    my $res = { raw => $data, timedout => $timedout, headers => {} };
    my $hend = index($data, "\r\n\r\n");
    if ($hend < 0) {
        $res->{error} = 'no complete response header';
        return $res;
    }

    my @lines = split /\r\n/, substr($data, 0, $hend);
    my $status = shift @lines;
    ($res->{status}) = $status =~ m{^HTTP/\d\.\d (\d+)};
    for (@lines) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        $res->{headers}{lc $k} //= $v;
    }

    my $body = substr($data, $hend + 4);
    if (($res->{headers}{'transfer-encoding'} // '') =~ /chunked/i) {
        my $out = '';
        while ($body =~ s/^([0-9a-fA-F]+)[^\r]*\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $out .= substr($body, 0, $n, '');
            $body =~ s/^\r\n//;
        }
        $body = $out;
    }

    $res->{body} = $body;
    my $cl = $res->{headers}{'content-length'};
    $res->{truncated} = defined $cl && length($body) < $cl ? 1 : 0;

    return $res;
}

sub build_request {
    my $block = shift;

    my $req = $block->request;
    die $block->name . ": no --- request\n" unless defined $req;
    $req =~ s/^\s+|\s+$//g;

    my ($method, $uri, $proto) = split /\s+/, $req, 3;
    $proto ||= 'HTTP/1.1';

    my $more = $block->more_headers // '';
    $more =~ s/^\s+|\s+$//g;
    my $headers = "Host: localhost\r\nConnection: close\r\n";
    $headers .= join('', map { "$_\r\n" } split /\n/, $more) if length $more;

    return "$method $uri $proto\r\n$headers\r\n";
}

sub log_patterns {
    my $v = shift;
    return () unless defined $v;
    return @$v if ref $v eq 'ARRAY';
    return ($v) if ref $v eq 'Regexp';
    return grep { length } split /\n/, $v;
}

sub check_log {
    my ($name, $log, $block) = @_;

    for my $p (log_patterns($block->error_log)) {
        if (ref $p eq 'Regexp') {
            Test::More::ok($log =~ $p, "$name - error log matches $p");
        } else {
            Test::More::ok(index($log, $p) >= 0,
                           "$name - error log has \"$p\"");
        }
    }

    for my $p (log_patterns($block->no_error_log)) {
        if (ref $p eq 'Regexp') {
            Test::More::ok($log !~ $p, "$name - error log lacks $p");
        } else {
            Test::More::ok(index($log, $p) < 0,
                           "$name - error log lacks \"$p\"");
        }
    }
}

sub apply_filters {
    my ($block, $body) = @_;
    my $f = $block->response_body_filters;
    return $body unless defined $f;

    for my $filter (ref $f eq 'ARRAY' ? @$f : ref $f ? ($f) : split ' ', $f) {
        if (ref $filter eq 'CODE') {
            $body = $filter->($body);
        } elsif ($filter eq 'uc') {
            $body = uc $body;
        } elsif ($filter eq 'lc') {
            $body = lc $body;
        } else {
            die "unknown response_body_filters entry \"$filter\"\n";
        }
    }

    return $body;
}

sub check_response {
    my ($block, $res, $rep) = @_;
    my $name = $block->name;

    if ($res->{error}) {
        Test::More::fail("$name - response: $res->{error}");
        return;
    }

    my $code = $block->error_code // 200;
    $code =~ s/\s+$//;
    Test::More::is($res->{status}, $code, "$name - status code ok");

    for my $line (split /\n/, $block->response_headers // '') {
        next unless $line =~ /\S/;
        if ($line =~ /^!\s*(\S+)/) {
            Test::More::ok(!defined $res->{headers}{lc $1},
                           "$name - header $1 absent");
            next;
        }
        my ($k, $v) = $line =~ /^([^:]+):\s*(.*)$/ or next;
        Test::More::is($res->{headers}{lc $k}, $v, "$name - header $k ok");
    }

    for my $line (split /\n/, $block->response_headers_like // '') {
        my ($k, $v) = $line =~ /^([^:]+):\s*(.*)$/ or next;
        Test::More::like($res->{headers}{lc $k} // '', qr/^(?:$v)$/,
                         "$name - header $k like ok");
    }

    return if $block->ignore_response;

    my $body = apply_filters($block, $res->{body});

    if (defined $block->response_body) {
        Test::More::is($body, $block->response_body,
                       "$name - response_body - response is expected");
    }

    if (defined $block->response_body_like) {
        my $re = $block->response_body_like;
        $re = qr/$re/s unless ref $re eq 'Regexp';
        Test::More::like($body, $re, "$name - response_body_like");
    }

    for my $check (@ResponseBodyChecks) {
        $check->($block, $res->{body}, 0, $rep, 0);
    }
}

sub run_block {
    my ($block, $rep) = @_;
    my $name = $block->name;

    if (defined $block->init) {
        my $code = $block->init;
        ref $code eq 'CODE' ? $code->($block) : eval $code;
        die "$name: init: $@" if $@;
    }

    write_config($block);
    start_nginx($block) or return;

    my $logfile = "$ServRoot/logs/error.log";
    my $offset = -s $logfile || 0;

    my $timeout = $block->timeout // 10;
    $timeout =~ s/s?\s*$//;

    my $res = send_request($block, build_request($block), $timeout);
    check_response($block, $res, $rep);

    # lines logged at the end of the request may trail the response
    Time::HiRes::sleep(0.05);

    stop_nginx();

    check_log($name, read_log_from($logfile, $offset), $block);

    if ($ENV{TEST_NGINX_USE_VALGRIND} && $ValgrindLog) {
        my $v = read_log_from($ValgrindLog, 0);
        my $bad = $v =~ /(Invalid (read|write)|uninitialised|definitely lost: [1-9]|indirectly lost: [1-9])/;
        Test::More::ok(!$bad, "$name - valgrind clean")
            or Test::More::diag($v);
    }
}

sub run_tests () {
    # in a random order unless no_shuffle(), as the real one runs them
    my @blocks = Test::Base::blocks();
    @blocks = List::Util::shuffle(@blocks) unless $NoShuffle;

    for my $pp (@BlockPreprocessors) {
        $pp->($_) for @blocks;
    }

    File::Path::remove_tree($ServRoot) unless $ENV{TEST_NGINX_NO_CLEAN};

    for my $rep (0 .. $RepeatEach - 1) {
        for my $block (@blocks) {
            eval { run_block($block, $rep) };
            if ($@) {
                Test::More::fail($block->name . " - $@");
                stop_nginx();
            }
        }
    }
}

END {
    stop_nginx();
}

1;
