package SquashTest;

# Shared set-up of the ngx_squash suite: loads the module into every
# block, and adds checks that read the archive a block downloaded:
#
#   --- squash_check: complete|incomplete
#       complete: the whole archive read, layer.tar's sha256 is the
#       config's diff_id, and the body is as long as Content-Length said;
#       incomplete: the client could tell it was cut short.
#   --- squash_list     the outer entries, type and path ("<id>" and
#                       "<config>" stand for the 64-hex names)
#   --- squash_layer    the merged layer's entries, sorted by path
#   --- squash_file: PATH   with --- squash_file_like: REGEX
#   --- squash_same_as_umoci: FIXTURE NAME:TAG
#       layer.tar extracts to the tree `umoci unpack` makes of the image
#   --- squash_podman_load: NAME   `podman load` accepts it as NAME
#   --- squash_slow_client: URI
#       a second client reads URI slowly; nginx's memory must not follow
#       the layer size
#
# t/run-suite sets TEST_NGINX_SQUASH_MODULE, TEST_NGINX_TOOLS (the build
# directory) and TEST_NGINX_FIXTURES.

use strict;
use warnings;

use File::Temp ();
use Time::HiRes ();
use IO::Socket::INET ();
use Test::Nginx::Socket ();
use Test::More ();

our $Tools = $ENV{TEST_NGINX_TOOLS} or die "TEST_NGINX_TOOLS is not set\n";
our $Fixtures = $ENV{TEST_NGINX_FIXTURES}
    or die "TEST_NGINX_FIXTURES is not set\n";

sub import {
    Test::Nginx::Socket::add_block_preprocessor(\&preprocess);
    Test::Nginx::Socket::add_response_body_check(\&check);
}

sub preprocess {
    my $block = shift;

    if (!defined $block->main_config) {
        $block->set_value('main_config',
                          'load_module $TEST_NGINX_SQUASH_MODULE;');
    }
}

sub tmpfile {
    my $data = shift;
    my $fh = File::Temp->new(SUFFIX => '.tar');
    binmode $fh;
    print $fh $data;
    close $fh;
    return $fh;
}

sub tool {
    my @args = @_;
    my $out = `$Tools/squash-tartool @args 2>&1`;
    return $out;
}

sub trimmed {
    my $s = shift // '';
    $s =~ s/^\s+|\s+$//g;
    return $s;
}

sub check {
    my ($block, $body, $req_idx, $rep, $dry_run, $res) = @_;
    my $name = $block->name;

    return if $dry_run;

    my $file;

    if (defined $block->squash_check) {
        $file //= tmpfile($body);
        my $want = trimmed($block->squash_check);
        my ($got) = split /[\s:]+/, tool('check', "$file");
        $got //= '';
        Test::More::is($got, $want, "$name - archive is $want")
            or Test::More::diag(tool('check', "$file"));

        if ($want eq 'complete' && $res) {
            Test::More::ok(!$res->{truncated},
                           "$name - body is as long as Content-Length");
        }
    }

    if (defined $block->squash_list) {
        $file //= tmpfile($body);
        my $list = tool('list', "$file");
        $list =~ s/\b[0-9a-f]{64}(?=\/)/<id>/g;
        $list =~ s{blobs/sha256/[0-9a-f]{64}}{blobs/sha256/<config>}g;
        $list =~ s/^(\S) \d+ /$1 /mg;
        Test::More::is($list, $block->squash_list, "$name - archive entries");
    }

    if (defined $block->squash_layer) {
        $file //= tmpfile($body);
        Test::More::is(tool('layer', "$file"), $block->squash_layer,
                       "$name - merged layer");
    }

    if (defined $block->squash_file) {
        $file //= tmpfile($body);
        my $path = trimmed($block->squash_file);
        $path =~ s/<id>/id_of("$file")/e;
        my $data = tool('cat', "$file", $path);
        my $re = $block->squash_file_like;
        Test::More::like($data, qr/$re/s, "$name - $path");
    }

    if (defined $block->squash_same_as_umoci) {
        $file //= tmpfile($body);
        same_as_umoci($name, "$file", trimmed($block->squash_same_as_umoci));
    }

    if (defined $block->squash_podman_load) {
        $file //= tmpfile($body);
        podman_load($name, "$file", trimmed($block->squash_podman_load));
    }

    if (defined $block->squash_slow_client) {
        slow_client($name, trimmed($block->squash_slow_client),
                    $block->squash_slow_client_max_rss_kb);
    }
}

sub id_of {
    my $file = shift;
    my ($id) = tool('list', $file) =~ /\b([0-9a-f]{64})\//;
    return $id // 'no-id';
}

# layer.tar of the archive, extracted as root keeps owners and modes
sub extract_layer {
    my ($file, $dir) = @_;
    my $id = id_of($file);
    system("$Tools/squash-tartool cat '$file' '$id/layer.tar'"
           . " | bsdtar -C '$dir' --numeric-owner -xpf - 2>&1") == 0
        or return 0;
    return 1;
}

sub same_as_umoci {
    my ($name, $file, $what) = @_;
    my ($fixture, $ref) = split ' ', $what;
    (my $ociref = $ref) =~ s{[/:]}{-}g;
    my $bundle = "$Fixtures/$fixture/umoci/$ociref";

    if (!-d "$bundle/rootfs") {
        # umoci takes OCI manifests only: skopeo converts Docker ones
        my $oci = "$Fixtures/$fixture/umoci-oci";
        my $out = `skopeo copy --quiet 'dir:$Fixtures/$fixture/dir/$ociref' 'oci:$oci:$ociref' 2>&1`
            . `umoci unpack --image '$oci:$ociref' '$bundle' 2>&1`;
        if ($? != 0) {
            Test::More::fail("$name - umoci unpack $ref");
            Test::More::diag($out);
            return;
        }
    }

    my $dir = File::Temp->newdir;
    if (!extract_layer($file, "$dir")) {
        Test::More::fail("$name - layer.tar extracts");
        return;
    }

    my $ours = tool('tree', "$dir");
    my $theirs = tool('tree', "$bundle/rootfs");

    Test::More::is($ours, $theirs,
                   "$name - squashed tree equals umoci unpack of $ref");
}

sub podman_load {
    my ($name, $file, $want) = @_;
    my $root = File::Temp->newdir;
    my @podman = ('podman', '--storage-driver', 'vfs', '--root', "$root/root",
                  '--runroot', "$root/run", '--cgroup-manager', 'cgroupfs',
                  '--events-backend', 'file');

    my $out = `@podman load -i '$file' 2>&1`;
    Test::More::ok($? == 0 && $out =~ /Loaded image(?:\(s\))?: \Q$want\E/,
                   "$name - podman load gives $want")
        or Test::More::diag($out);

    my $mnt = `@podman image mount '$want' 2>&1`;
    chomp $mnt;
    if ($? == 0 && -d $mnt) {
        my $dir = File::Temp->newdir;
        extract_layer($file, "$dir");
        Test::More::is(tool('tree', $mnt), tool('tree', "$dir"),
                       "$name - podman's image tree is the layer's");
        system("@podman image unmount '$want' >/dev/null 2>&1");
    } else {
        Test::More::fail("$name - podman image mount: $mnt");
    }
}

sub rss_kb {
    my $pid = shift;
    open my $fh, '<', "/proc/$pid/status" or return 0;
    while (<$fh>) {
        return $1 if /^VmRSS:\s+(\d+)/;
    }
    return 0;
}

# reads 1 MiB, stops reading for a while (nginx must stop too), samples
# the worker's resident memory, then reads the rest slowly
sub slow_client {
    my ($name, $uri, $max_kb) = @_;
    my $servroot = Test::Nginx::Socket::servroot();

    open my $fh, '<', "$servroot/logs/nginx.pid" or die $!;
    chomp(my $pid = <$fh>);
    close $fh;

    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $ENV{TEST_NGINX_SERVER_PORT},
                                     Proto => 'tcp')
        or die "connect: $!";
    setsockopt($sock, Socket::SOL_SOCKET(), Socket::SO_RCVBUF(), 65536);
    print $sock "GET $uri HTTP/1.1\r\nHost: localhost\r\n"
                . "Connection: close\r\n\r\n";

    my ($got, $buf, $peak) = (0, '', 0);
    my $before = rss_kb($pid);

    while ($got < (1 << 20)) {
        my $n = sysread($sock, $buf, 65536) or last;
        $got += $n;
    }

    for (1 .. 20) {
        Time::HiRes::sleep(0.1);
        my $r = rss_kb($pid);
        $peak = $r if $r > $peak;
    }

    my $total = $got;
    while (1) {
        my $n = sysread($sock, $buf, 1 << 20) or last;
        $total += $n;
        my $r = rss_kb($pid);
        $peak = $r if $r > $peak;
    }

    close $sock;

    $max_kb = trimmed($max_kb) || 65536;
    Test::More::ok($total > 64 << 20, "$name - slow client read $total bytes");
    Test::More::ok($peak - $before < $max_kb,
                   "$name - nginx grew by " . ($peak - $before)
                   . " KiB (limit $max_kb KiB) while the client paused");
}

1;
