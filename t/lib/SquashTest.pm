# Copyright (C) 2026 The ngx_squash authors
package SquashTest;

# Shared set-up of the ngx_squash suite: loads the module into every
# block, expands "squash_location {" in configs into the squash location
# of the contract configuration (squash $sq_name $sq_ref from
# /squash/<name>/<ref>, squash_registry /_registry), and adds checks
# that read the archive a block downloaded:
#
#   --- squash_check: complete|incomplete
#       complete: the whole archive read, layer.tar's sha256 is the
#       config's diff_id, and the body is as long as Content-Length said;
#       incomplete: the client could tell it was cut short.
#   --- squash_list     the outer entries, type and path ("<id>" and
#                       "<digest>" stand for the 64-hex names)
#   --- squash_layer    the merged layer's entries, sorted by path
#   --- squash_file: PATH   with --- squash_file_like: REGEX
#   --- squash_same_as_umoci: FIXTURE NAME:TAG
#       layer.tar extracts to the tree `umoci unpack` makes of the image
#   --- squash_dir_times: FIXTURE NAME:TAG
#       layer.tar extracted by GNU tar gives every directory the mtime,
#       mode and owner `umoci unpack` gives it from the original
#   --- squash_podman_load: NAME [FIXTURE NAME:TAG]
#       `podman load` accepts it as NAME, its tree is the layer's, and
#       `podman inspect` shows the original's Entrypoint, Env, WorkingDir
#   --- squash_skopeo: TRANSPORT FIXTURE NAME:TAG [REF]
#       `skopeo copy docker-archive:` or `oci-archive:[...:REF]` into an OCI
#       directory, then `umoci unpack`: the tree of the original image
#   --- squash_docker: FIXTURE NAME:TAG LOADED-NAME
#       `docker load` into a dockerd (vfs) started here; `docker create` +
#       `docker export` give the tree of the original image, and
#       `docker inspect` its Entrypoint, Env and WorkingDir
#   --- squash_identical: URI    a second download of URI is the same bytes
#   --- squash_head_matches: URI HEAD and GET agree, GET keeps its length
#   --- squash_304: URI          If-None-Match with the ETag gives 304
#   --- squash_etag_differs: URI URI2   two archives, two ETags
#   --- squash_then: URI         a second download, which must be complete
#   --- squash_access_log        regexes, one per line of
#                                logs/squash-<block number>.log
#   --- squash_padding_within: PERCENT BYTES
#       the first line of that log, "<layer size> <padding> ...",
#       pads at most PERCENT % of the size plus BYTES
#   --- squash_download: URI     curl into a file: whole, and as long as
#                                Content-Length said; one a line, and
#                                "URI incomplete" for one cut short
#   --- squash_client_abort: URI a client leaves after 64 KiB; the next
#                                download is whole (leaks: under valgrind)
#   --- squash_slow_client: URI
#       a second client reads URI slowly; nginx's memory must not follow
#       the layer size: the worker's anonymous memory (RssAnon) grows by
#       under squash_slow_client_max_rss_kb (default 1024)
#   --- squash_same_bytes   one image a line, "KEY URL...": every URL, in
#       turn, gives the same bytes, and the same as KEY gave in an earlier
#       block (another nginx, its caches empty)
#   --- squash_ranges: URL [nginx]   single ranges in each region of the archive
#       (legacy entries, inside layer.tar, its padding, the trailing
#       documents), open and suffix ranges: 206 and exactly those bytes;
#       past the end 416; several ranges, or If-Range with another ETag,
#       the whole archive (with "nginx", as from nginx's cache: multipart);
#       If-Range with its ETag, the range
#   --- squash_resume: URL [docker FIXTURE NAME:TAG LOADED] [podman NAME]
#       a download cut after 1 MiB, resumed with curl -C -: the same bytes
#       as a whole one, which docker load and podman load accept
#   --- squash_coalesce: N URL LOG SQUASHES
#       N clients at once on URL: the same bytes each, and SQUASHES lines
#       more in logs/LOG (the squash location's access log)
#   --- debug_log, --- no_debug_log   as error_log and no_error_log, for
#       lines of ngx_log_debug: skipped where nginx has no debug logging
#   --- squash_clients   one download a line, "KIND URL [docker FIXTURE
#       NAME:TAG LOADED-NAME]", each the same bytes as the first line's
#       ("ref URL"); KIND is fast, slow (curl --limit-rate 8M), pause
#       (stops reading for 3 s after 1 MiB), compressed (curl
#       --compressed), each with -h2 for HTTP/2 (URLs may be https://,
#       certificates are not checked), or parallelN (N fast clients at
#       once); "docker ..." loads the download into dockerd as
#       squash_docker does
#   --- squash_pull    one pull a line through the edge's registry API,
#       "CLIENT NAME:TAG FIXTURE ORIGINAL [LAYERS] [creds=USER:PASS]":
#       CLIENT is skopeo (copy by tag into an OCI layout, umoci unpack),
#       skopeo-digest (the same by the digest skopeo inspect gives),
#       podman (pull into vfs storage, image mount), docker (pull into
#       the dockerd started here, create, export) or ctr (pull into the
#       containerd started here, native snapshotter, images mount); each
#       must give the tree `umoci unpack` gives of ORIGINAL in FIXTURE,
#       from LAYERS layers (1); platform=OS/ARCH[/VARIANT] pulls that
#       platform; keep=K: the location keeps K base layers
#       (squash_keep_layers), so K+1 layers, or all of a smaller image;
#       killed=SECONDS (skopeo, podman): the same pull first, killed after
#       SECONDS while it still runs, then the one checked, into the same
#       storage
#   --- squash_archives   one download a line, "CLIENT URI FIXTURE
#       ORIGINAL KEEP": the archive is complete, with the layers
#       squash_keep_layers KEEP leaves (KEEP kept as they are, all but the
#       top one at most, and one merged), and CLIENT
#       gives the tree `umoci unpack` gives of ORIGINAL in FIXTURE:
#       docker-archive or oci-archive (skopeo copy, umoci unpack), podman
#       (load, image mount) or docker (load into the dockerd started here,
#       create, export), the image named as manifest.json names it
#   --- squash_conf_refused: MESSAGE   nginx -t refuses the lines of
#       --- squash_conf (a server's directives) with MESSAGE
#   --- squash_pull_blob: NAME REF   the manifest's config and layer
#       blobs: their digests and lengths, HEAD, a range, one past the end
#
# TEST_NGINX_SQUASH_THREADS=1 adds "squash_thread_pool squash" (a pool of
# two threads) to the server of every block whose config names neither
# squash_thread_pool nor squash_yield_after (whose checks are of the event
# loop's turns).
#
# t/run-suite sets TEST_NGINX_SQUASH_MODULE (empty for an nginx with the
# module built in), TEST_NGINX_TOOLS (the build
# directory) and TEST_NGINX_FIXTURES.  A client a check needs that is not
# installed fails the test, unless SQUASH_SKIP_CLIENTS names it (CI names
# none).

use strict;
use warnings;

use Digest::SHA ();
use File::Temp ();
use FindBin ();
use POSIX ();
use Time::HiRes ();
use IO::Socket::INET ();
use Test::Nginx::Socket ();
use Test::More ();

our $Tools = $ENV{TEST_NGINX_TOOLS} or die "TEST_NGINX_TOOLS is not set\n";
our $Fixtures = $ENV{TEST_NGINX_FIXTURES}
    or die "TEST_NGINX_FIXTURES is not set\n";

# ctr pulls so far: each has a containerd namespace of its own
our $CtrPulls = 0;

sub import {
    my $caller = caller;

    Test::Nginx::Socket::add_block_preprocessor(\&preprocess);
    Test::Nginx::Socket::add_response_body_check(\&check);

    # expand() must run after the test file's own preprocessors: the
    # clean-room runner runs them in the order added, openresty's in the
    # reverse order; so it is added first (here) and last (run_tests()),
    # and does its work once
    no strict 'refs';
    no warnings 'redefine';
    *{"${caller}::run_tests"} = \&run_tests;
}

# the same prototype as Test::Nginx::Socket's
sub run_tests () {
    Test::Nginx::Socket::add_block_preprocessor(\&expand);
    Test::Nginx::Socket::run_tests();
}

sub preprocess {
    my $block = shift;

    # both runners skip the body checks of such a block: ours would vanish
    if (defined section($block, 'ignore_response')
        && grep { /^squash_/ && defined section($block, $_) }
                keys %{ $block->_section_map // {} })
    {
        Test::Nginx::Socket::bail_out($block->name . ": squash_* checks with "
                                      . "--- ignore_response would not run");
    }

    # an empty TEST_NGINX_SQUASH_MODULE: nginx has the module built in
    if ($ENV{TEST_NGINX_SQUASH_MODULE}) {
        $block->set_value('main_config',
                          "load_module \$TEST_NGINX_SQUASH_MODULE;\n"
                          . (section($block, 'main_config') // ''));
    }

    # TEST_NGINX_SQUASH_THREADS: the pool expand() names
    if ($ENV{TEST_NGINX_SQUASH_THREADS}) {
        $block->set_value('main_config',
                          (section($block, 'main_config') // '')
                          . "\nthread_pool squash threads=2;\n");
    }

    expand($block);
}

# nginx built --with-debug (Debian's is; nginx.org's and most others are
# not): only then are ngx_log_debug lines there to look for
my $DebugBuild;

sub debug_build {
    my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
    $DebugBuild //= `$nginx -V 2>&1` =~ /--with-debug/ ? 1 : 0;
    return $DebugBuild;
}

sub section {
    my ($block, $name) = @_;
    return $block->can($name) ? $block->$name : undef;
}

# --- debug_log and --- no_debug_log: lines of ngx_log_debug, checked as
# error_log and no_error_log are where nginx has debug logging, and
# reported as skipped where it has not
sub debug_sections {
    my $block = shift;

    for (['debug_log', 'error_log'], ['no_debug_log', 'no_error_log']) {
        my ($from, $to) = @$_;
        my $lines = section($block, $from);

        next unless defined $lines;

        $block->set_value($from, undef);

        if (debug_build()) {
            $block->set_value($to, (section($block, $to) // '') . $lines);
            next;
        }

        for my $line (grep { /\S/ } split /\n/, $lines) {
            Test::More->builder->skip($block->name . " - $from \"$line\": "
                                      . "nginx has no debug logging");
        }
    }
}

# "squash_location {" in a config stands for the squash location of the
# contract configuration, its directives following
sub expand {
    my $block = shift;
    my $config = $block->config;

    debug_sections($block);

    return unless defined $config;

    my $location = 'location ~ ^/squash/(?<sq_name>.+)/(?<sq_ref>[^/]+)$ {';

    $config =~ s!^([ \t]*)squash_location \{\n!$1$location
$1    squash \$sq_name \$sq_ref;
$1    squash_registry /_registry;
!mg;

    # TEST_NGINX_SQUASH_THREADS: every layer's work in a thread pool, in
    # servers whose blocks do not choose (once: the line is then there)
    if ($ENV{TEST_NGINX_SQUASH_THREADS}
        && $config !~ /squash_thread_pool\s+(?!off)|squash_yield_after/)
    {
        $config = "    squash_thread_pool squash;\n$config";
    }

    $block->set_value('config', $config);
}

# the server root: openresty's Test::Nginx keeps it in Test::Nginx::Util,
# the clean-room runner (t/cleanroom) answers servroot()
sub servroot {
    no warnings 'once';
    return $Test::Nginx::Util::ServRoot
           // Test::Nginx::Socket::servroot();
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

# a client the check needs: missing is a failure, unless the test command
# was told to skip it (SQUASH_SKIP_CLIENTS="docker podman ...")
sub have_client {
    my ($name, $client) = @_;

    return 1 if system("command -v $client >/dev/null 2>&1") == 0;

    if (grep { $_ eq $client } split /[\s,]+/, $ENV{SQUASH_SKIP_CLIENTS} // '')
    {
        # a skip, reported as one ("ok N # skip ...")
        Test::More->builder->skip("$name - $client is missing and "
                                  . "SQUASH_SKIP_CLIENTS names it");
        return 0;
    }

    Test::More::fail("$name - $client is missing (SQUASH_SKIP_CLIENTS="
                     . "$client skips what needs it)");
    return 0;
}

sub check {
    my ($block, $body, $req_idx, $rep, $dry_run) = @_;
    my $name = $block->name;

    return if $dry_run;

    record_digest($name, $body);

    my $file;

    if (defined $block->squash_check) {
        $file //= tmpfile($body);
        my $want = trimmed($block->squash_check);
        my ($got) = split /[\s:]+/, tool('check', "$file");
        $got //= '';
        Test::More::is($got, $want, "$name - archive is $want")
            or Test::More::diag(tool('check', "$file"));

        if ($want eq 'complete') {
            Test::More::ok(tar_ends_at_eof($body),
                           "$name - the body ends with the archive's end "
                           . "blocks, exactly");
        }
    }

    if (defined $block->squash_list) {
        $file //= tmpfile($body);
        my $list = tool('list', "$file");
        $list =~ s/\b[0-9a-f]{64}(?=\/)/<id>/g;
        $list =~ s{blobs/sha256/[0-9a-f]{64}}{blobs/sha256/<digest>}g;
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

    if (defined $block->squash_same_as_umoci && have_client($name, 'umoci')) {
        $file //= tmpfile($body);
        same_as_umoci($name, "$file", trimmed($block->squash_same_as_umoci));
    }

    if (defined $block->squash_dir_times) {
        my $file = tmpfile($body);
        dir_times($name, "$file", trimmed($block->squash_dir_times));
    }

    if (defined $block->squash_podman_load && have_client($name, 'podman')) {
        $file //= tmpfile($body);
        podman_load($name, "$file", trimmed($block->squash_podman_load));
    }

    if (defined $block->squash_skopeo && have_client($name, 'skopeo')
        && have_client($name, 'umoci'))
    {
        $file //= tmpfile($body);
        skopeo_copy($name, "$file", trimmed($block->squash_skopeo));
    }

    if (defined $block->squash_docker && have_client($name, 'dockerd')) {
        $file //= tmpfile($body);
        docker_load($name, "$file", trimmed($block->squash_docker));
    }

    if (defined $block->squash_identical) {
        my $again = http_get(trimmed($block->squash_identical));
        Test::More::ok($again eq $body,
                       "$name - a second download is the same bytes");
    }

    if (defined $block->squash_head_matches) {
        my $uri = trimmed($block->squash_head_matches);
        my ($hs, $hh, $hb) = http_request('HEAD', $uri);
        my ($gs, $gh, $gb) = http_request('GET', $uri);
        Test::More::is($hh->{'content-length'}, $gh->{'content-length'},
                       "$name - HEAD and GET promise the same length");
        Test::More::is(length $gb, $gh->{'content-length'},
                       "$name - GET sends as many bytes as it promised");
        Test::More::is($hh->{etag}, $gh->{etag}, "$name - the same ETag");
        Test::More::is($hb, '', "$name - HEAD has no body");
    }

    if (defined $block->squash_304) {
        my $uri = trimmed($block->squash_304);
        my (undef, $h) = http_request('HEAD', $uri);
        my $etag = $h->{etag} // '';
        Test::More::like($etag, qr/^"[0-9a-f]{32}"$/, "$name - an ETag");
        my ($st, undef, $b) = http_request('GET', $uri,
                                           "If-None-Match: $etag");
        Test::More::is($st, 304, "$name - If-None-Match gives 304");
        Test::More::is($b, '', "$name - 304 has no body");
        ($st) = http_request('GET', $uri, 'If-None-Match: "other"');
        Test::More::is($st, 200, "$name - another ETag gives 200");
    }

    if (defined $block->squash_etag_differs) {
        my @etags = map { (http_request('HEAD', $_))[1]{etag} // '' }
                    split ' ', trimmed($block->squash_etag_differs);
        Test::More::like($etags[0], qr/^"[0-9a-f]{32}"$/, "$name - an ETag");
        Test::More::isnt($etags[0], $etags[1],
                         "$name - another archive, another ETag");
    }

    if (defined $block->squash_then) {
        # a second download, after the first one
        my $uri = trimmed($block->squash_then);
        my ($st, $h, $b) = http_request('GET', $uri);
        my $f2 = tmpfile($b);
        my ($got) = split /[\s:]+/, tool('check', "$f2");
        Test::More::is($got // '', 'complete',
                       "$name - the next download is complete");
        Test::More::is(length $b, $h->{'content-length'} // -1,
                       "$name - and as long as it promised");
    }

    if (defined $block->squash_padding_within) {
        # the first logged request: "<layer size> <padding> ..."
        Time::HiRes::sleep(0.1);
        my $servroot = servroot();
        my $seq = $block->seq_num;
        open my $fh, '<', "$servroot/logs/squash-$seq.log" or die $!;
        my ($size, $pad) = split ' ', (<$fh> // '');
        close $fh;
        my ($pct, $bytes) = split ' ', trimmed($block->squash_padding_within);
        Test::More::ok(defined $pad && $pad <= $size * $pct / 100 + $bytes,
                       "$name - padding $pad of $size is within $pct % + "
                       . "$bytes");
    }

    if (defined $block->squash_download) {
        # big archives: through curl into a file, then checked; a line
        # "URI incomplete" expects a transfer cut short
        for my $line (split /\n/, trimmed($block->squash_download)) {
            my ($uri, $expect) = split ' ', $line;
            $expect //= 'complete';
            my $dir = File::Temp->newdir;
            my $out = `curl -sS -D '$dir/h' -o '$dir/a.tar' 'http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}$uri' 2>&1`;
            my ($cl) = `cat '$dir/h'` =~ /^Content-Length:\s*(\d+)/mi;
            if ($expect eq 'incomplete') {
                Test::More::cmp_ok(-s "$dir/a.tar" // 0, '<', $cl // 0,
                                   "$name - $uri: fewer bytes than promised");
                next;
            }
            Test::More::is(-s "$dir/a.tar", $cl,
                           "$name - as many bytes as Content-Length said")
                or Test::More::diag($out);
            my ($got) = split /[\s:]+/, tool('check', "$dir/a.tar");
            Test::More::is($got // '', 'complete',
                           "$name - the archive is whole")
                or Test::More::diag(log_lines());
        }
    }

    if (defined $block->squash_access_log) {
        Time::HiRes::sleep(0.1);
        my $servroot = servroot();
        my $seq = $block->seq_num;
        open my $fh, '<', "$servroot/logs/squash-$seq.log" or die $!;
        my @lines = <$fh>;
        close $fh;
        my @want = grep { length } split /\n/, $block->squash_access_log;
        Test::More::is(scalar @lines, scalar @want,
                       "$name - access log lines");
        for my $i (0 .. $#want) {
            Test::More::like($lines[$i] // '', qr/$want[$i]/,
                             "$name - access log line " . ($i + 1));
        }
    }

    if (defined $block->squash_client_abort) {
        # a client that goes away mid-stream, then one that stays
        my $uri = trimmed($block->squash_client_abort);
        my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                         PeerPort => $ENV{TEST_NGINX_SERVER_PORT},
                                         Proto => 'tcp') or die "connect: $!";
        print $sock "GET $uri HTTP/1.1\r\nHost: localhost\r\n"
                    . "Connection: close\r\n\r\n";
        my ($got, $buf) = (0, '');
        while ($got < 65536) {
            my $n = sysread($sock, $buf, 65536) or last;
            $got += $n;
        }
        close $sock;
        Time::HiRes::sleep(0.5);

        my ($st, $h, $b) = http_request('GET', $uri);
        my $f2 = tmpfile($b);
        my ($ok) = split /[\s:]+/, tool('check', "$f2");
        Test::More::is($ok // '', 'complete',
                       "$name - after a client went away mid-stream, the "
                       . "next download is whole");
    }

    if (defined $block->squash_slow_client) {
        slow_client($name, trimmed($block->squash_slow_client),
                    $block->squash_slow_client_max_rss_kb);
    }

    if (defined $block->squash_clients) {
        client_kinds($name, $block->squash_clients);
    }

    # first: it counts squashes, which the checks below may cause
    if (defined $block->squash_coalesce) {
        coalesce($name, trimmed($block->squash_coalesce));
    }

    if (defined $block->squash_same_bytes) {
        same_bytes($name, $block->squash_same_bytes);
    }

    if (defined $block->squash_ranges) {
        ranges($name, trimmed($block->squash_ranges));
    }

    if (defined $block->squash_resume) {
        resume($name, trimmed($block->squash_resume));
    }

    if (defined $block->squash_conf_refused) {
        conf_refused($name, $block->squash_conf // '',
                     trimmed($block->squash_conf_refused));
    }

    if (defined $block->squash_pull_blob) {
        pull_blob($name, split ' ', trimmed($block->squash_pull_blob));
    }

    if (defined $block->squash_pull) {
        for my $line (split /\n/, trimmed($block->squash_pull)) {
            pull($name, split ' ', $line);
        }
    }

    if (defined $block->squash_archives) {
        for my $line (split /\n/, trimmed($block->squash_archives)) {
            archives($name, split ' ', $line);
        }
    }
}

# one archive downloaded, checked, and given to one client
sub archives {
    my ($name, $client, $uri, $fixture, $ref, $keep) = @_;
    my $dir = File::Temp->newdir;
    my $file = "$dir/a.tar";
    my $layers = kept_layers($fixture, $ref, $keep);

    my $out = `curl -sS -o '$file' 'http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}$uri' 2>&1`;
    my $want = $layers > 1 ? "complete: $layers layers" : 'complete';
    Test::More::is(trimmed(tool('check', $file)), $want,
                   "$name - $uri: $want")
        or Test::More::diag($out, log_lines());

    require JSON::PP;
    my $manifest = eval {
        JSON::PP::decode_json(tool('cat', $file, 'manifest.json'))
    };
    my $loaded = $manifest ? $manifest->[0]{RepoTags}[0] : '';

    if ($client =~ /-archive$/) {
        skopeo_copy("$name ($uri)", $file, "$client $fixture $ref")
            if have_client($name, 'skopeo') && have_client($name, 'umoci');

    } elsif ($client eq 'podman') {
        podman_load("$name ($uri)", $file, "$loaded $fixture $ref",
                    umoci_tree($name, $fixture, $ref))
            if have_client($name, 'podman') && have_client($name, 'umoci');

    } elsif ($client eq 'docker') {
        docker_load("$name ($uri)", $file, "$fixture $ref $loaded")
            if have_client($name, 'dockerd');

    } else {
        Test::More::fail("$name - no client \"$client\"");
    }
}

# nginx -t of a server with those directives fails, saying so
sub conf_refused {
    my ($name, $conf, $want) = @_;
    my $dir = File::Temp->newdir;
    my $bin = $ENV{TEST_NGINX_BINARY} || 'nginx';
    my $module = $ENV{TEST_NGINX_SQUASH_MODULE}
                 ? "load_module $ENV{TEST_NGINX_SQUASH_MODULE};\n" : '';

    mkdir "$dir/logs";
    open my $fh, '>', "$dir/nginx.conf" or die "$dir/nginx.conf: $!";
    print $fh "${module}error_log stderr;\npid $dir/nginx.pid;\n"
              . "events {}\nhttp {\n    server {\n$conf\n    }\n}\n";
    close $fh;

    my $out = `'$bin' -t -p '$dir/' -c '$dir/nginx.conf' 2>&1`;
    Test::More::ok($? != 0 && index($out, $want) >= 0,
                   "$name - nginx -t refuses: $want")
        or Test::More::diag($out);
}

# the blobs a manifest of the registry API names
sub pull_blob {
    my ($name, $repo, $ref) = @_;

    require JSON::PP;
    my ($st, $h, $body) = http_request('GET', "/v2/$repo/manifests/$ref");
    my $m = eval { JSON::PP::decode_json($body) };
    if ($st != 200 || !$m) {
        Test::More::fail("$name - manifest: $st $body");
        return;
    }

    Test::More::is($h->{'docker-content-digest'},
                   'sha256:' . Digest::SHA::sha256_hex($body),
                   "$name - the manifest's digest");

    for my $blob ($m->{config}, @{ $m->{layers} }) {
        my $uri = "/v2/$repo/blobs/$blob->{digest}";

        ($st, $h, $body) = http_request('HEAD', $uri);
        Test::More::ok($st == 200 && $h->{'content-length'} == $blob->{size}
                       && $h->{'docker-content-digest'} eq $blob->{digest},
                       "$name - HEAD $blob->{digest}: $st, its length");

        ($st, $h, $body) = http_request('GET', $uri);
        Test::More::ok($st == 200 && length($body) == $blob->{size}
                       && 'sha256:' . Digest::SHA::sha256_hex($body)
                          eq $blob->{digest},
                       "$name - GET $blob->{digest}: its bytes");
    }

    my $layer = $m->{layers}[0];
    my $uri = "/v2/$repo/blobs/$layer->{digest}";
    my (undef, undef, $whole) = http_request('GET', $uri);

    ($st, $h, $body) = http_request('GET', $uri, 'Range: bytes=700-1899');
    Test::More::ok($st == 206 && $body eq substr($whole, 700, 1200)
                   && $h->{'content-range'} eq "bytes 700-1899/$layer->{size}",
                   "$name - a range of the layer: $st");

    ($st) = http_request('GET', $uri, "Range: bytes=$layer->{size}-");
    Test::More::is($st, 416, "$name - a range past the layer's end");
}

# a pull through the edge's registry API: the original's tree
# the layers of an image squashed with squash_keep_layers K: K kept (all
# but the top one at most) and one merged
sub kept_layers {
    my ($fixture, $orig, $keep) = @_;
    (my $ociref = $orig) =~ s{[/:]}{-}g;
    require JSON::PP;
    open my $mf, '<', "$Fixtures/$fixture/dir/$ociref/manifest.json"
        or die "$ociref: $!";
    my $n = @{ JSON::PP::decode_json(join '', <$mf>)->{layers} };
    close $mf;
    return ($keep < $n ? $keep : $n - 1) + 1;
}

# a client killed midway: still running after SECONDS, then killed with
# all its processes
sub killed_midway {
    my ($what, $cmd, $secs) = @_;

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        POSIX::setpgid(0, 0);
        exec 'sh', '-c', "exec $cmd >/dev/null 2>&1";
        exit 127;
    }

    Time::HiRes::sleep($secs);
    my $running = waitpid($pid, POSIX::WNOHANG()) == 0;
    my $status = $?;
    kill 'KILL', -$pid;
    waitpid $pid, 0 if $running;

    Test::More::ok($running, "$what - killed midway, after $secs s")
        or Test::More::diag("it had ended, status $status: $cmd");
}

sub pull {
    my ($name, $client, $ref, $fixture, $orig, @opts) = @_;
    my %opt = map { /^(\w+)=(.*)$/ ? ($1 => $2) : (layers => $_) } @opts;
    my $layers = defined $opt{keep} ? kept_layers($fixture, $orig, $opt{keep})
                                    : $opt{layers} // 1;
    my $edge = "127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}";
    my $what = "$name - $client pull of $ref";

    (my $bin = $client) =~ s/-.*//;
    $bin = 'dockerd' if $bin eq 'docker';
    $bin = 'containerd' if $bin eq 'ctr';
    have_client($name, $bin) or return;

    my $theirs = umoci_tree($name, $fixture, $orig) // return;
    my $creds = $opt{creds} ? "--creds '$opt{creds}'" : '';
    my $platform = $opt{platform} ? "--platform '$opt{platform}'" : '';
    my $dir = File::Temp->newdir;
    my ($out, $tree);

    if ($client =~ /^skopeo/) {
        require JSON::PP;
        my ($os, $arch, $variant) = split m{/}, $opt{platform} // '';
        my $over = ($os ? "--override-os $os --override-arch $arch" : '')
                   . ($variant ? " --override-variant $variant" : '');
        my $inspect = `skopeo $over inspect --no-tags --tls-verify=false $creds 'docker://$edge/$ref' 2>&1`;
        my $info = eval { JSON::PP::decode_json($inspect) };
        if (!$info) {
            Test::More::fail("$what - skopeo inspect");
            Test::More::diag($inspect);
            return;
        }

        Test::More::is(scalar @{ $info->{Layers} }, $layers,
                       "$what - $layers layer(s)");

        my $src = "docker://$edge/$ref";
        if ($client eq 'skopeo-digest') {
            ($src = "docker://$edge/$ref") =~ s/:[^:\/]+$//;
            $src .= '@' . $info->{Digest};
        }

        (my $src_creds = $creds) =~ s/--creds/--src-creds/;
        my $copy = "skopeo $over copy --quiet --src-tls-verify=false $src_creds '$src' 'oci:$dir/oci:x'";
        killed_midway($what, $copy, $opt{killed}) if $opt{killed};
        $out = `$copy 2>&1` . `umoci unpack --image '$dir/oci:x' '$dir/bundle' 2>&1`;
        if ($? != 0) {
            Test::More::fail("$what - skopeo copy $src");
            Test::More::diag($out);
            return;
        }

        $tree = tool('tree', "$dir/bundle/rootfs");

    } elsif ($client eq 'podman') {
        my @podman = ('podman', '--storage-driver', 'vfs', '--root',
                      "$dir/root", '--runroot', "$dir/run",
                      '--cgroup-manager', 'cgroupfs', '--events-backend',
                      'file');

        my $pull = "@podman pull --quiet --tls-verify=false $creds $platform '$edge/$ref'";
        killed_midway($what, $pull, $opt{killed}) if $opt{killed};
        $out = `$pull 2>&1`;
        if ($? != 0) {
            Test::More::fail("$what - podman pull");
            Test::More::diag($out);
            return;
        }

        my $n = `@podman image inspect --format '{{len .RootFS.Layers}}' '$edge/$ref' 2>&1`;
        chomp $n;
        Test::More::is($n, $layers, "$what - $layers layer(s)");

        my $mnt = `@podman image mount '$edge/$ref' 2>&1`;
        chomp $mnt;
        if ($? != 0 || !-d $mnt) {
            Test::More::fail("$what - podman image mount: $mnt");
            return;
        }

        $tree = tool('tree', $mnt);
        system("@podman image unmount '$edge/$ref' >/dev/null 2>&1");

    } elsif ($client eq 'ctr') {
        if (!start_containerd()) {
            Test::More::fail("$what - containerd starts");
            return;
        }

        # a namespace each: its own images and snapshots
        my $ns = '-n squash' . ++$CtrPulls;
        my $user = $opt{creds} ? "--user '$opt{creds}'" : '';
        $out = ctr($ns, 'images', 'pull', '--plain-http', '--snapshotter',
                   'native', $user, $platform, "'$edge/$ref'");
        if ($? != 0) {
            Test::More::fail("$what - ctr images pull");
            Test::More::diag($out);
            return;
        }

        my $mnt = "$dir/mnt";
        mkdir $mnt;
        $out = ctr($ns, 'images', 'mount', '--snapshotter', 'native',
                   $platform, "'$edge/$ref'", "'$mnt'");
        if ($? != 0) {
            Test::More::fail("$what - ctr images mount");
            Test::More::diag($out);
            return;
        }

        $tree = tool('tree', $mnt);
        ctr($ns, 'images', 'unmount', "'$mnt'");

        # the layers: the snapshots it committed in its namespace
        $out = ctr($ns, 'snapshots', '--snapshotter', 'native', 'ls');
        my @chain = grep { /Committed/ } split /\n/, $out;
        Test::More::is(scalar @chain, $layers, "$what - $layers layer(s)");

        ctr($ns, 'images', 'rm', '--sync', "'$edge/$ref'");

    } else {
        if (!start_dockerd()) {
            Test::More::fail("$what - dockerd starts");
            return;
        }

        if ($opt{creds}) {
            my ($user, $pass) = split /:/, $opt{creds}, 2;
            docker('login', '-u', "'$user'", '-p', "'$pass'", $edge);
        }

        $out = docker('pull', $platform, "'$edge/$ref'");
        if ($? != 0) {
            Test::More::fail("$what - docker pull");
            Test::More::diag($out);
            return;
        }

        my $n = docker('image', 'inspect', '--format',
                       "'{{len .RootFS.Layers}}'", "'$edge/$ref'");
        chomp $n;
        Test::More::is($n, $layers, "$what - $layers layer(s)");

        $tree = docker_tree($name, $fixture, $orig, "$edge/$ref");
        docker('rmi', "'$edge/$ref'");
        docker('logout', $edge) if $opt{creds};
    }

    Test::More::is($tree, $theirs, "$what - the tree of $orig");
}

# the digests of earlier blocks' downloads, by key
my %SameBytes;

sub same_bytes {
    my ($name, $spec) = @_;
    my $dir = File::Temp->newdir;

    for my $line (grep { /\S/ } split /\n/, $spec) {
        my ($key, @urls) = split ' ', $line;
        my @got;

        for my $i (0 .. $#urls) {
            my ($st, $err) = fetch_as('fast', $urls[$i], "$dir/$i.tar");
            my $sum = $st == 200 ? sha256_file("$dir/$i.tar") : "status $st";
            push @got, $sum;
            Test::More::diag("$urls[$i]: $err") if $st != 200;
        }

        my $want = $SameBytes{$key} //= $got[0];
        my @differ = grep { $got[$_] ne $want } 0 .. $#got;

        Test::More::ok(!@differ && $want !~ /^status/,
                       "$name - $key: the same bytes from @urls"
                       . " as before")
            or Test::More::diag(join "\n",
                                map { "$urls[$_]: $got[$_]" } 0 .. $#got);
    }
}

# the outer tar read by its headers: [path, data offset, size] of each
# entry (pax "path" and "size" records applied), and the offset of the
# first zero block, undef when the headers run off the end
sub tar_walk {
    my $data = shift;
    my ($off, @entries, $pax_path, $pax_size) = (0);

    while ($off + 512 <= length $data) {
        my $h = substr $data, $off, 512;

        return (\@entries, $off) if $h =~ /^\0{512}$/;

        my $type = substr $h, 156, 1;
        my $field = substr $h, 124, 12;
        my $size;

        if (ord($field) & 0x80) {
            $size = 0;
            $size = $size * 256 + ord($_) for split //, substr($field, 1);
        } else {
            ($size) = $field =~ /([0-7]+)/;
            $size = oct($size // 0);
        }

        (my $path = substr $h, 0, 100) =~ s/\0.*//s;
        (my $prefix = substr $h, 345, 155) =~ s/\0.*//s;
        $path = "$prefix/$path" if length $prefix;

        if ($type eq 'x') {
            my $rec = substr $data, $off + 512, $size;
            ($pax_path) = $rec =~ /^\d+ path=(.*)$/m;
            ($pax_size) = $rec =~ /^\d+ size=(\d+)$/m;
        } else {
            if ($type ne 'g') {
                $path = $pax_path if defined $pax_path;
                $size = $pax_size if defined $pax_size;
            }
            undef $pax_path;
            undef $pax_size;
            push @entries, [$path, $off + 512, $size];
        }

        $off += 512 + int(($size + 511) / 512) * 512;
    }

    return (\@entries, undef);
}

sub tar_entries {
    my ($entries) = tar_walk(shift);
    return @$entries;
}

# one ranged GET: status, Content-Range and body
sub ranged {
    my ($uri, @headers) = @_;
    my ($st, $h, $b) = http_request('GET', $uri, @headers);
    return ($st, $h->{'content-range'} // '', $b // '');
}

sub ranges {
    my ($name, $spec) = @_;
    my ($uri, $by_nginx) = split ' ', $spec;
    my ($st, $h, $full) = http_request('GET', $uri);
    my $total = length $full;

    Test::More::is($st, 200, "$name - the whole archive first");

    my ($layer, @kept) = grep { $_->[0] =~ m{/layer\.tar$} }
                         tar_entries($full);
    my ($ls, $lsize) = ($layer->[1], $layer->[2]);

    # zeros up to the promised size close layer.tar
    (my $data = substr $full, $ls, $lsize) =~ s/\0+$//;
    my $pad = $ls + length($data) + 1024;
    $pad = $ls + $lsize - 100 if $pad > $ls + $lsize - 100;

    my @cases = (
        ['legacy entries', "bytes=100-2099", 100, 2099],
        ['layer.tar', "bytes=" . ($ls + 700) . "-" . ($ls + 5000),
         $ls + 700, $ls + 5000],
        ['across layer.tar\'s header', "bytes=" . ($ls - 600) . "-"
         . ($ls + 600), $ls - 600, $ls + 600],
        ['the padding', "bytes=$pad-" . ($pad + 99), $pad, $pad + 99],
        ['the trailing documents', "bytes=" . ($total - 1500) . "-"
         . ($total - 1001), $total - 1500, $total - 1001],
        ['an open range', "bytes=" . ($total - 3000) . "-",
         $total - 3000, $total - 1],
        ['a suffix range', "bytes=-2500", $total - 2500, $total - 1],
        ['one byte', "bytes=0-0", 0, 0],
        ['beyond the end', "bytes=" . ($total - 10) . "-" . ($total + 10),
         $total - 10, $total - 1],
    );

    # base layers kept as they are (squash_keep_layers): across each
    # one's header into its blob, and from its blob into what follows
    for my $k (@kept) {
        my ($ks, $ksize) = ($k->[1], $k->[2]);
        push @cases,
            ["kept $k->[0]\'s header", "bytes=" . ($ks - 300) . "-"
             . ($ks + 99), $ks - 300, $ks + 99],
            ["the end of kept $k->[0]", "bytes=" . ($ks + $ksize - 50) . "-"
             . ($ks + $ksize + 800), $ks + $ksize - 50, $ks + $ksize + 800];
    }

    for my $c (@cases) {
        my ($what, $range, $from, $to) = @$c;
        my ($rst, $cr, $b) = ranged($uri, "Range: $range");
        Test::More::is("$rst $cr", "206 bytes $from-$to/$total",
                       "$name - $what ($range): 206 and its Content-Range");
        Test::More::ok($b eq substr($full, $from, $to - $from + 1),
                       "$name - $what: the same bytes as in the whole");
    }

    my ($rst, $cr) = ranged($uri, "Range: bytes=$total-");
    Test::More::is("$rst $cr", "416 bytes */$total",
                   "$name - a range past the end: 416");

    my $b;
    ($rst, $cr, $b) = ranged($uri, "Range: bytes=0-9,20-29");
    if ($by_nginx) {
        # nginx's range filter answers a multipart 206
        Test::More::is($rst, 206, "$name - several ranges: multipart");
    } else {
        Test::More::ok($rst == 200 && $b eq $full,
                       "$name - several ranges: the whole archive");
    }

    my $etag = $h->{etag} // '';
    ($rst, $cr, $b) = ranged($uri, "Range: bytes=10-19",
                             'If-Range: "0123456789abcdef0123456789abcdef"');
    Test::More::ok($rst == 200 && $b eq $full,
                   "$name - If-Range with another ETag: the whole archive");

    ($rst, $cr, $b) = ranged($uri, "Range: bytes=10-19", "If-Range: $etag");
    Test::More::ok($rst == 206 && $b eq substr($full, 10, 10),
                   "$name - If-Range with its ETag: the range");
}

sub resume {
    my ($name, $spec) = @_;
    my ($url, @what) = split ' ', $spec;
    my $dir = File::Temp->newdir;
    my $port = $ENV{TEST_NGINX_SERVER_PORT};

    $url = "http://127.0.0.1:$port$url" if $url =~ m{^/};

    my ($st) = fetch_as('fast', $url, "$dir/whole.tar");

    # cut: curl stops once 1 MiB is written, then resumes where it was
    system("curl -sS --max-time 60 '$url' 2>/dev/null | head -c 1048576"
           . " >'$dir/cut.tar'");
    my $out = `curl -sS --max-time 120 -C - -o '$dir/cut.tar' '$url' 2>&1`;

    Test::More::is(-s "$dir/cut.tar", -s "$dir/whole.tar",
                   "$name - the resumed download is whole")
        or Test::More::diag($out);
    Test::More::is(sha256_file("$dir/cut.tar"), sha256_file("$dir/whole.tar"),
                   "$name - and the same bytes as a download in one go");

    while (@what) {
        my $client = shift @what;

        if ($client eq 'docker') {
            my @args = splice @what, 0, 3;
            docker_load("$name (resumed)", "$dir/cut.tar", "@args")
                if have_client($name, 'dockerd');

        } elsif ($client eq 'podman') {
            my @args = splice @what, 0, 1;
            podman_load("$name (resumed)", "$dir/cut.tar", "@args")
                if have_client($name, 'podman');
        }
    }
}

sub log_count {
    my $log = servroot() . "/logs/" . shift;
    open my $fh, '<', $log or return 0;
    my @lines = <$fh>;
    close $fh;
    return scalar @lines;
}

sub coalesce {
    my ($name, $spec) = @_;
    my ($n, $url, $log, $squashes) = split ' ', $spec;
    my $dir = File::Temp->newdir;
    my $before = log_count($log);
    my @sums = parallel_fetch($n, $url, "$dir/a.tar");
    my %sums = map { $_ => 1 } @sums;
    my $good = @sums;

    Test::More::ok($good == $n && keys %sums == 1,
                   "$name - $n clients at once: 200 and the same bytes each")
        or Test::More::diag(log_lines());

    Time::HiRes::sleep(0.2);
    Test::More::is(log_count($log) - $before, $squashes,
                   "$name - $squashes squash for $n clients");
}

# one download by curl in the way KIND says, into $out; returns the
# status and curl's complaints
sub fetch_as {
    my ($kind, $url, $out) = @_;
    my $port = $ENV{TEST_NGINX_SERVER_PORT};

    $url =~ s{\$(TEST_NGINX_\w+)}{$ENV{$1} // ''}ge;

    $url = "http://127.0.0.1:$port$url" if $url =~ m{^/};

    my @opt = ('-sS', '-k', '--max-time', '60', '-o', '-', '-w',
               "'%{stderr}%{http_code}'");
    push @opt, '--http2' if $kind =~ s/-h2$//;
    push @opt, '--limit-rate', '8M' if $kind eq 'slow';
    push @opt, '--compressed' if $kind eq 'compressed';

    # a reader that stops for longer than half of send_timeout: curl
    # blocks on the full pipe, so it stops reading the socket too
    my $reader = $kind eq 'pause' ? "$FindBin::Bin/lib/pause-reader" : 'cat';

    my $err = `curl @opt '$url' 2>'$out.err' | $reader >'$out'; cat '$out.err'`;
    my ($status) = $err =~ /(\d{3})\s*$/;
    return ($status // 0, $err);
}

# N fast downloads of URL at once, into OUT.1 ... OUT.N; returns the
# digests of those answered 200 (failures are missing from the list)
sub parallel_fetch {
    my ($n, $url, $out) = @_;
    my @pids;

    for my $k (1 .. $n) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            # no destructors here: the parent's temp dir stays
            my ($s) = fetch_as('fast', $url, "$out.$k");
            if (open my $fh, '>', "$out.$k.st") {
                print $fh $s;
                close $fh;
            }
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }

    waitpid $_, 0 for @pids;

    return map { sha256_file("$out.$_") }
           grep { `cat '$out.$_.st' 2>/dev/null` eq '200' } 1 .. $n;
}

sub client_kinds {
    my ($name, $spec) = @_;
    my @lines = grep { /\S/ } split /\n/, $spec;
    my $dir = File::Temp->newdir;

    my (undef, $ref) = split ' ', shift @lines;
    my ($st, $err) = fetch_as('fast', $ref, "$dir/ref.tar");
    my ($ok) = split /[\s:]+/, tool('check', "$dir/ref.tar");
    Test::More::is("$st " . ($ok // ''), '200 complete',
                   "$name - reference download $ref")
        or Test::More::diag($err);
    my $want = sha256_file("$dir/ref.tar");

    my $i = 0;
    for my $line (@lines) {
        my ($kind, $url, $docker, @what) = split ' ', $line;
        my $out = "$dir/" . $i++ . ".tar";

        if ($kind =~ /^parallel(\d+)$/) {
            # N fast clients at once, each must get the whole archive
            my $n = $1;
            my $good = grep { $_ eq $want } parallel_fetch($n, $url, $out);
            Test::More::is($good, $n, "$name - $n clients at once on $url: "
                           . "the reference bytes")
                or Test::More::diag(log_lines());
            next;
        }

        ($st, $err) = fetch_as($kind, $url, $out);
        Test::More::is("$st " . sha256_file($out), "200 $want",
                       "$name - $kind $url: the reference bytes")
            or Test::More::diag($err, log_lines());

        if (($docker // '') eq 'docker' && have_client($name, 'dockerd')) {
            docker_load("$name ($kind)", $out, join ' ', @what);
        }
    }
}

# A body cut short anywhere is caught: the outer tar's entries, read by
# their sizes (pax "size" records included), must end in two zero blocks
# that end the body.  libarchive takes an archive that stops between
# entries as whole, so squash-tartool check alone would not tell.
sub tar_ends_at_eof {
    my $data = shift;
    my (undef, $end) = tar_walk($data);

    return defined $end && $end + 1024 == length $data
           && substr($data, $end, 1024) =~ /^\0{1024}$/;
}

# SQUASH_DIGESTS=FILE: "<test name> <sha256>" of every body checked, to
# compare the bytes of two builds (as after a refactor)
sub record_digest {
    my ($name, $body) = @_;
    my $file = $ENV{SQUASH_DIGESTS} or return;

    open my $fh, '>>', $file or die "$file: $!";
    print $fh "$0 $name " . Digest::SHA::sha256_hex($body) . "\n";
    close $fh;
}

sub sha256_file {
    my $file = shift;
    my ($sum) = split ' ', `sha256sum '$file' 2>/dev/null` // '';
    return $sum // 'none';
}

# what nginx logged above debug, for a failure's diagnostics
sub log_lines {
    my $servroot = servroot();
    open my $fh, '<', "$servroot/logs/error.log" or return '';
    my @l = grep { !/\[debug\]/ } <$fh>;
    close $fh;
    return join '', @l[-10 .. -1];
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

# every directory's mtime, mode and owner below DIR
sub dir_stats {
    my $dir = shift;
    return join '', sort map { "$_\n" }
        split /\n/, `cd '$dir' && find . -mindepth 1 -type d -printf '%P %T\@ %m %U:%G\n'`;
}

sub dir_times {
    my ($name, $file, $what) = @_;
    my ($fixture, $ref) = split ' ', $what;
    (my $ociref = $ref) =~ s{[/:]}{-}g;

    umoci_tree($name, $fixture, $ref) // return;

    my $dir = File::Temp->newdir;
    my $id = id_of($file);
    system("$Tools/squash-tartool cat '$file' '$id/layer.tar'"
           . " | tar -C '$dir' --numeric-owner -xpf - 2>&1") == 0
        or return Test::More::fail("$name - GNU tar extracts layer.tar");

    Test::More::is(dir_stats("$dir"),
                   dir_stats("$Fixtures/$fixture/umoci/$ociref/rootfs"),
                   "$name - GNU tar gives the directories of umoci unpack");
}

# the tree `umoci unpack` makes of a fixture image (cached)
sub umoci_tree {
    my ($name, $fixture, $ref) = @_;
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

    return tool('tree', "$bundle/rootfs");
}

sub same_as_umoci {
    my ($name, $file, $what) = @_;
    my ($fixture, $ref) = split ' ', $what;

    my $theirs = umoci_tree($name, $fixture, $ref) // return;

    my $dir = File::Temp->newdir;
    if (!extract_layer($file, "$dir")) {
        Test::More::fail("$name - layer.tar extracts");
        return;
    }

    Test::More::is(tool('tree', "$dir"), $theirs,
                   "$name - squashed tree equals umoci unpack of $ref");
}

sub skopeo_copy {
    my ($name, $file, $what) = @_;
    my ($transport, $fixture, $ref, $tag) = split ' ', $what;

    my $theirs = umoci_tree($name, $fixture, $ref) // return;
    my $dir = File::Temp->newdir;
    my $src = "$transport:$file" . ($tag ? ":$tag" : '');

    my $out = `skopeo copy --quiet '$src' 'oci:$dir/oci:x' 2>&1`
              . `umoci unpack --image '$dir/oci:x' '$dir/bundle' 2>&1`;
    if ($? != 0) {
        Test::More::fail("$name - skopeo copy $src");
        Test::More::diag($out);
        return;
    }

    Test::More::is(tool('tree', "$dir/bundle/rootfs"), $theirs,
                   "$name - skopeo copy $transport: then umoci unpack gives"
                   . " the tree of $ref");
}

# (status, {lower-case header => value}, body) of one request
sub http_request {
    my ($method, $uri, @headers) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $ENV{TEST_NGINX_SERVER_PORT},
                                     Proto => 'tcp') or die "connect: $!";
    print $sock "$method $uri HTTP/1.1\r\nHost: localhost\r\n"
                . join('', map { "$_\r\n" } @headers)
                . "Connection: close\r\n\r\n";
    local $/;
    my $res = <$sock> // '';
    close $sock;

    my ($head, $body) = split /\r\n\r\n/, $res, 2;
    my ($status) = $head =~ m{^HTTP/\S+ (\d+)};
    my %h = map { /^([^:]+):\s*(.*)$/ ? (lc $1 => $2) : () }
            split /\r\n/, $head;

    return ($status // 0, \%h, $body // '');
}

sub http_get {
    my (undef, undef, $body) = http_request('GET', shift);
    return $body;
}

# the original image's runtime config, as the fixture holds it
sub original_config {
    my ($fixture, $ref) = @_;
    (my $ociref = $ref) =~ s{[/:]}{-}g;
    require JSON::PP;
    my $json = `skopeo inspect --config 'dir:$Fixtures/$fixture/dir/$ociref'`;
    return JSON::PP::decode_json($json)->{config} // {};
}

my ($DockerDir, $DockerPid);

sub docker {
    my @args = @_;
    return `docker -H 'unix://$DockerDir/docker.sock' @args 2>&1`;
}

sub start_dockerd {
    return 1 if $DockerPid;

    $DockerDir = File::Temp->newdir('/tmp/squash-docker-XXXXXX');
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$DockerDir/dockerd.log";
        open STDERR, '>&', \*STDOUT;
        exec 'dockerd', '--storage-driver=vfs', "--data-root=$DockerDir/data",
             "--exec-root=$DockerDir/exec", "--pidfile=$DockerDir/pid",
             '-H', "unix://$DockerDir/docker.sock", '--iptables=false',
             '--bridge=none';
        exit 127;
    }
    $DockerPid = $pid;

    for (1 .. 300) {
        docker('version');
        return 1 if $? == 0;
        Time::HiRes::sleep(0.1);
    }

    Test::More::diag(`cat '$DockerDir/dockerd.log'`);
    return 0;
}

END {
    if ($DockerPid) {
        kill 'TERM', $DockerPid;
        waitpid $DockerPid, 0;
    }
}

my ($ContainerdDir, $ContainerdPid);

sub ctr {
    my @args = @_;
    return `ctr -a '$ContainerdDir/containerd.sock' @args 2>&1`;
}

# containerd without its CRI plugin, its state in a directory of its own
sub start_containerd {
    return 1 if $ContainerdPid;

    $ContainerdDir = File::Temp->newdir('/tmp/squash-containerd-XXXXXX');
    open my $fh, '>', "$ContainerdDir/config.toml" or die $!;
    print $fh "version = 2\nroot = \"$ContainerdDir/root\"\n"
              . "state = \"$ContainerdDir/state\"\n"
              . "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
              . "[grpc]\n  address = \"$ContainerdDir/containerd.sock\"\n";
    close $fh;

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$ContainerdDir/containerd.log";
        open STDERR, '>&', \*STDOUT;
        exec 'containerd', '-c', "$ContainerdDir/config.toml";
        exit 127;
    }
    $ContainerdPid = $pid;

    for (1 .. 300) {
        ctr('version');
        return 1 if $? == 0;
        Time::HiRes::sleep(0.1);
    }

    Test::More::diag(`cat '$ContainerdDir/containerd.log'`);
    return 0;
}

END {
    if ($ContainerdPid) {
        kill 'TERM', $ContainerdPid;
        waitpid $ContainerdPid, 0;
    }
}

sub docker_load {
    my ($name, $file, $what) = @_;
    my ($fixture, $ref, $loaded) = split ' ', $what;

    if (!start_dockerd()) {
        Test::More::fail("$name - dockerd starts");
        return;
    }

    my $out = docker('load', '-i', "'$file'");
    Test::More::ok($? == 0 && $out =~ /Loaded image: \Q$loaded\E/,
                   "$name - docker load gives $loaded")
        or Test::More::diag($out);

    Test::More::is(docker_tree($name, $fixture, $ref, $loaded),
                   umoci_tree($name, $fixture, $ref),
                   "$name - docker export gives the tree of $ref");

    my $cfg = original_config($fixture, $ref);
    require JSON::PP;
    my $got = JSON::PP::decode_json(
        docker('inspect', '--format', "'{{json .Config}}'", "'$loaded'"));

    for my $k (qw(Entrypoint Env WorkingDir)) {
        Test::More::is_deeply($got->{$k}, $cfg->{$k},
                              "$name - docker inspect: $k");
    }

    docker('rmi', "'$loaded'");
}

# the tree of a container of image, less what docker adds to every one
sub docker_tree {
    my ($name, $fixture, $ref, $image) = @_;

    # the id, after any warning (another platform's image)
    my ($id) = docker('create', '--entrypoint', 'true', "'$image'")
               =~ /^([0-9a-f]{64})$/m;
    return '' unless $id;

    my $dir = File::Temp->newdir;
    docker('export', $id, '|', 'bsdtar', '-C', "'$dir'", '--numeric-owner',
           '-xpf', '-');
    docker('rm', $id);

    my %theirs = map { (/ (\S+)$/)[0] => 1 }
                 split /\n/, umoci_tree($name, $fixture, $ref) // '';
    my @ours = grep {
        my ($p) = / (\S+)$/;
        $theirs{$p} || $p !~ m{^(\.dockerenv|dev|dev/.*|etc|etc/hostname
                                 |etc/hosts|etc/mtab|etc/resolv\.conf|proc
                                 |sys)$}x
    } split /\n/, tool('tree', "$dir");

    return join('', map { "$_\n" } @ours);
}

# the tree podman mounts is the layer's, or $theirs where given
sub podman_load {
    my ($name, $file, $what, $theirs) = @_;
    my ($want, $fixture, $ref) = split ' ', $what;
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
        if (defined $theirs) {
            Test::More::is(tool('tree', $mnt), $theirs,
                           "$name - podman's image tree is the original's");
        } else {
            extract_layer($file, "$dir");
            Test::More::is(tool('tree', $mnt), tool('tree', "$dir"),
                           "$name - podman's image tree is the layer's");
        }
        system("@podman image unmount '$want' >/dev/null 2>&1");

        if ($fixture) {
            my $cfg = original_config($fixture, $ref);
            require JSON::PP;
            my $got = JSON::PP::decode_json(
                `@podman image inspect --format '{{json .Config}}' '$want'`);

            for my $k (qw(Entrypoint Env WorkingDir)) {
                Test::More::is_deeply($got->{$k}, $cfg->{$k},
                                      "$name - podman inspect: $k");
            }
        }
    } else {
        Test::More::fail("$name - podman image mount: $mnt");
    }
}

# the worker's resident memory in KiB: all of it (VmRSS), and the part
# that is not a file's (RssAnon: its heap, pools, buffers and thread
# stacks, without the pages of nginx's and the libraries' code that a
# first download touches once)
sub rss_kb {
    my ($pid, $field) = @_;
    open my $fh, '<', "/proc/$pid/status" or return 0;
    while (<$fh>) {
        return $1 if /^\Q$field\E:\s+(\d+)/;
    }
    return 0;
}

# reads 1 MiB, stops reading for a while (nginx must stop too), samples
# the worker's resident memory, then reads the rest slowly
sub slow_client {
    my ($name, $uri, $max_kb) = @_;
    my $servroot = servroot();

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

    my ($got, $buf, $peak, $peak_all, $head) = (0, '', 0, 0, '');
    my $before = rss_kb($pid, 'RssAnon');
    my $before_all = rss_kb($pid, 'VmRSS');

    while ($got < (1 << 20)) {
        my $n = sysread($sock, $buf, 65536) or last;
        $head .= $buf if length $head < 4096;
        $got += $n;
    }

    my ($cl) = $head =~ /\r\nContent-Length:\s*(\d+)/i;
    my $hlen = index($head, "\r\n\r\n") + 4;

    my $sample = sub {
        my $r = rss_kb($pid, 'RssAnon');
        $peak = $r if $r > $peak;
        $r = rss_kb($pid, 'VmRSS');
        $peak_all = $r if $r > $peak_all;
    };

    for (1 .. 20) {
        Time::HiRes::sleep(0.1);
        $sample->();
    }

    my $total = $got;
    while (1) {
        my $n = sysread($sock, $buf, 1 << 20) or last;
        $total += $n;
        $sample->();
    }

    close $sock;

    $max_kb = trimmed($max_kb) || 1024;
    Test::More::is($total - $hlen, $cl // -1,
                   "$name - the slow client got all Content-Length bytes");
    Test::More::ok($peak - $before < $max_kb,
                   "$name - nginx's memory grew by " . ($peak - $before)
                   . " KiB (limit $max_kb KiB; "
                   . ($peak_all - $before_all) . " KiB with code pages) "
                   . "while the client paused");
}

1;
