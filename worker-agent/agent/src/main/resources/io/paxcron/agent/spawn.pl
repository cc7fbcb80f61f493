# The worker agent's spawning helper (docs/agent.md, "Processes"): one per agent, started once,
# it forks every run's wrapper so that a run costs a fork instead of a JVM spawn, a setsid exec
# and a shell. Requests arrive on stdin, every field ending in a NUL byte:
#   P id dir cwd stdin argc argv... envc key value...   fork a wrapper that waits for its go
#   G id                                                 tell wrapper id to run (the agent may
#                                                        also write the go to the wrapper's stdin
#                                                        itself, then give the id up with D)
#   D id                                                 give wrapper id up: it exits unrun
#   K signal pgid                                        send signal to the process group pgid
# Go, discard and signal requests are carried out as soon as they are read; forks ahead of an
# instant wait for them (one fork at a time, reading again between forks), so a go never queues
# behind a burst of forks for later instants. A go for a wrapper still queued to be forked forks
# it to run at once.
# When stdin ends (the agent closed or died), every waiting wrapper's go pipe closes and it exits
# without running anything; wrappers told to run go on in their own sessions.
use strict;
use warnings;
use POSIX ();
use Errno ();

$0 = 'paxcron-spawn';
# Ended wrappers are reaped at once (the agent sees them gone, and their CPU time is counted in
# this process's, hence the agent's children's; an ignored SIGCHLD would lose it).
$SIG{CHLD} = sub { local ($!, $?); 1 while waitpid(-1, POSIX::WNOHANG()) > 0 };
$SIG{PIPE} = 'IGNORE';    # a go pipe whose wrapper died is a failed write, not a death
my %waiting;    # id -> [write end of the wrapper's go pipe or undef, request]
my %queued;     # id -> request, for wrappers not forked yet
my @order;      # ids of %queued in the order they came
my $buffer = '';
my $eof = 0;

# Writes a small file whole, then renames it into place: a reader never sees it half written.
sub put {
  my ($path, $text) = @_;
  open(my $file, '>', "$path.tmp") or return;
  print $file $text;
  close $file;
  rename("$path.tmp", $path);
}

# A run that cannot start: its reason in the output, exit status 127, as a shell would say.
sub refuse {
  my ($dir, $reason) = @_;
  if (open(my $out, '>>', "$dir/output")) {
    print $out "paxcron: $reason\n";
    close $out;
  }
  put("$dir/status", "127\n");
}

# The forked wrapper: waits for its go (none to wait for without a pipe), becomes the leader of
# a new session, records its pid, runs the command, records the command's exit status.
sub wrapper {
  my ($go, $request) = @_;
  my ($dir, $cwd, $stdin, $argv, $env) = @$request;
  $0 = "paxcron-run $dir";
  $SIG{$_} = 'DEFAULT' for qw(CHLD PIPE);
  POSIX::setsid();
  if ($go) {
    # The go pipe becomes stdin, and the pid goes into "wrapper": at the instant the agent opens
    # /proc/PID/fd/0 and writes the go itself, one wake-up instead of two.
    open(STDIN, '<&', $go) or POSIX::_exit(0);
    close $go;
    put("$dir/wrapper", "$$\n");
    my $read = sysread(STDIN, my $word, 1);
    POSIX::_exit(0) unless $read && $word eq 'g';
  }
  open(STDIN, '<', '/dev/null');    # not a pipe of the agent's; fd 0 stays taken
  my $term = 0;
  $SIG{$_} = sub { $term = 1 } for qw(TERM INT HUP);
  put("$dir/pgid", "$$\n");
  # Stop signals are held across the fork: one that comes before the command's exec reaches it
  # once its default action is back (it dies of it), and the wrapper sees it too.
  my $stops = POSIX::SigSet->new(POSIX::SIGTERM(), POSIX::SIGINT(), POSIX::SIGHUP());
  POSIX::sigprocmask(POSIX::SIG_BLOCK(), $stops);
  my $command = fork;
  if (!defined $command) {
    refuse($dir, "cannot start: fork: $!");
    POSIX::_exit(0);
  }
  if ($command == 0) {
    $SIG{$_} = 'DEFAULT' for qw(TERM INT HUP);
    POSIX::sigprocmask(POSIX::SIG_UNBLOCK(), $stops);
    open(STDIN, '<', $stdin) or POSIX::_exit(127);
    open(STDOUT, '>>', "$dir/output") or POSIX::_exit(127);
    open(STDERR, '>&', \*STDOUT) or POSIX::_exit(127);
    if (length $cwd && !chdir $cwd) {
      print STDERR "paxcron: cannot start: working directory '$cwd': $!\n";
      POSIX::_exit(127);
    }
    $ENV{$_} = $env->{$_} for keys %$env;
    { exec { $argv->[0] } @$argv; }
    print STDERR "paxcron: cannot start '$argv->[0]': $!\n";
    POSIX::_exit(127);
  }
  POSIX::sigprocmask(POSIX::SIG_UNBLOCK(), $stops);
  kill('TERM', -$$) if $term;    # a SIGTERM that came before the command existed: to the group
  while (1) {
    my $waited = waitpid($command, 0);
    last if $waited == $command || ($waited == -1 && !$!{EINTR});
  }
  my $rc = ($? & 127) ? 128 + ($? & 127) : ($? >> 8);
  put("$dir/status", "$rc\n");
  POSIX::_exit(0);
}

# Forks the wrapper of a request; with $wait it waits on a pipe for its go. False if fork failed.
sub spawn {
  my ($id, $request, $wait) = @_;
  my ($read, $write);
  if ($wait && !pipe($read, $write)) {
    $waiting{$id} = [undef, $request];
    return 0;
  }
  my $pid = fork;
  if (!defined $pid) {
    $waiting{$id} = [undef, $request] if $wait;
    return 0;
  }
  if ($pid == 0) {
    close($_->[0]) for grep { $_->[0] } values %waiting;    # the other wrappers' go pipes
    close $write if $write;
    wrapper($read, $request);
  }
  if ($wait) {
    close $read;
    $waiting{$id} = [$write, $request];
  }
  return 1;
}

# Whether stdin has something to read within $timeout seconds (undef: wait).
sub readable {
  my ($timeout) = @_;
  while (1) {
    my $bits = '';
    vec($bits, fileno(STDIN), 1) = 1;
    my $ready = select($bits, undef, undef, $timeout);
    return $ready > 0 if $ready >= 0;
    die "paxcron spawning helper: waiting for requests: $!\n" unless $!{EINTR};
    return 0 if defined $timeout;
  }
}

# Reads what stdin holds (waiting for it only if $wait), appending it to the buffer.
sub take {
  my ($wait) = @_;
  return unless readable($wait ? undef : 0);
  while (1) {
    my $read = sysread(STDIN, $buffer, 1 << 16, length $buffer);
    if (defined $read) {
      $eof = 1 if $read == 0;
      return;
    }
    die "paxcron spawning helper: reading requests: $!\n" unless $!{EINTR};
  }
}

# The first complete request in the buffer, taken out of it; undef if none is complete yet.
sub request {
  my $pos = 0;
  my $field = sub {
    my $end = index($buffer, "\0", $pos);
    die "incomplete\n" if $end < 0;
    my $value = substr($buffer, $pos, $end - $pos);
    $pos = $end + 1;
    return $value;
  };
  my $request = eval {
    my $op = $field->();
    if ($op eq 'P') {
      my $id = $field->();
      my @request = ($field->(), $field->(), $field->());
      my @argv = map { $field->() } 1 .. $field->();
      my %env;
      for (1 .. $field->()) {
        my $key = $field->();
        $env{$key} = $field->();
      }
      ['P', $id, [@request, \@argv, \%env]];
    } elsif ($op eq 'G' || $op eq 'D') {
      [$op, $field->()];
    } elsif ($op eq 'K') {
      ['K', $field->(), $field->()];
    } else {
      die "paxcron spawning helper: unknown request '$op'\n";
    }
  };
  if (!$request) {
    return undef if $@ eq "incomplete\n";
    die $@;
  }
  substr($buffer, 0, $pos) = '';
  return $request;
}

sub go {
  my ($id) = @_;
  my $held = delete $waiting{$id};
  if (!$held) {
    my $request = delete $queued{$id};
    if (!$request) {
      print STDERR "paxcron spawning helper: go for unknown wrapper $id\n";
    } elsif (!spawn($id, $request, 0)) {
      refuse($request->[0], "cannot start: fork: $!");
    }
    return;
  }
  my ($write, $request) = @$held;
  my $told = $write && syswrite($write, 'g');
  close $write if $write;
  # Its wrapper was never forked or died waiting (killed from outside): fork one that runs now.
  if (!$told && !spawn($id, $request, 0)) {
    refuse($request->[0], "cannot start: fork: $!");
  }
}

sub discard {
  my ($id) = @_;
  delete $queued{$id};
  my $held = delete $waiting{$id};
  close $held->[0] if $held && $held->[0];
}

while (1) {
  take(!@order);    # wait for requests only when no fork is queued
  while (my $request = request()) {
    my ($op, @fields) = @$request;
    if ($op eq 'P') {
      $queued{$fields[0]} = $fields[1];
      push @order, $fields[0];
    } elsif ($op eq 'G') {
      go($fields[0]);
    } elsif ($op eq 'D') {
      discard($fields[0]);
    } else {
      kill($fields[0], -$fields[1]) if $fields[1] > 1;
    }
  }
  exit 0 if $eof;    # the agent is gone: queued forks would only wait for a go that never comes
  while (@order) {
    my $id = shift @order;
    my $request = delete $queued{$id};
    next unless $request;    # told to go or given up meanwhile
    spawn($id, $request, 1);
    last;                    # one fork, then read again: a go never waits behind the rest
  }
}
