# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_vinit_global_optspecs
    string join \n root= h/help V/version
end

function __fish_vinit_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_vinit_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_vinit_using_subcommand
    set -l cmd (__fish_vinit_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c vinit -n "__fish_vinit_needs_command" -l root -d 'Work on the system below DIR (default: $VINIT_ROOT, else /)' -r
complete -c vinit -n "__fish_vinit_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vinit -n "__fish_vinit_needs_command" -s V -l version -d 'Print version'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "init" -d 'PID 1: run inittab, runlevels, respawn and shutdown; a container\'s init; a subreaper'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "telinit" -d 'Ask init to change the runlevel, re-read inittab, re-execute or set INIT_* variables'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "shutdown" -d 'Bring the system down at a given time, warning logged-in users'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "halt" -d 'Halt, reboot or power off the machine'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "reboot" -d 'Halt, reboot or power off the machine'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "poweroff" -d 'Halt, reboot or power off the machine'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "runlevel" -d 'Print the previous and the current runlevel'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "rc" -d 'Run the rc scripts of a runlevel: K links with stop, then S links with start, each as soon as what it depends on has finished'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "chkconfig" -d 'List and change which services start in which runlevels'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "ntsysv" -d 'Choose on a full screen which services start in which runlevels'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "update-rc.d" -d 'Install and remove a service\'s rc links (Debian\'s update-rc.d)'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "service" -d 'Run an init script in a clean environment'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "syslogd" -d 'System log daemon: receives messages on dev/log (and UDP, and the kernel log) and writes them where etc/syslog.conf says'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "logger" -d 'Enter messages into the system log'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "daemon" -d 'Start, stop and check daemons (dpkg\'s start-stop-daemon)'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "start-stop-daemon" -d 'Start, stop and check daemons (dpkg\'s start-stop-daemon)'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "xinetd" -d 'The superserver: listen for many services, start each server when a request comes'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "inetd" -d 'The superserver: listen for many services, start each server when a request comes'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "install-links" -d 'Create a link named after each tool, pointing at this binary'
complete -c vinit -n "__fish_vinit_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vinit -n "__fish_vinit_using_subcommand init" -l root -d 'The system below DIR (default: $VINIT_ROOT, else /). Not PID 1, init runs only with a root chosen explicitly (--root / for this very system): it would otherwise run the host\'s boot scripts' -r
complete -c vinit -n "__fish_vinit_using_subcommand init" -l level -d 'Boot into LEVEL instead of inittab\'s initdefault' -r
complete -c vinit -n "__fish_vinit_using_subcommand init" -l grace -d 'Between TERM and KILL for everything at shutdown (default 5)' -r
complete -c vinit -n "__fish_vinit_using_subcommand init" -s v -l verbose -d 'With a main command, show init\'s and rc\'s own messages too (by default only warnings, errors and failed scripts are shown)'
complete -c vinit -n "__fish_vinit_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vinit -n "__fish_vinit_using_subcommand telinit" -l root -d 'Work on the system below DIR' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand telinit" -s t -d 'Seconds between SIGTERM and SIGKILL for processes leaving the runlevel' -r
complete -c vinit -n "__fish_vinit_using_subcommand telinit" -s e -d 'Set VAR to VAL in init\'s environment for its children (only INIT_* names; a bare VAR unsets it). May be given several times' -r
complete -c vinit -n "__fish_vinit_using_subcommand telinit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vinit -n "__fish_vinit_using_subcommand shutdown" -l root -d 'Work on the system below DIR' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand shutdown" -s t -d 'Seconds between SIGTERM and SIGKILL for processes leaving the runlevel' -r
complete -c vinit -n "__fish_vinit_using_subcommand shutdown" -s h -d 'Halt or power off (runlevel 0)'
complete -c vinit -n "__fish_vinit_using_subcommand shutdown" -s H -d 'Halt, not power off (sets INIT_HALT=HALT)'
complete -c vinit -n "__fish_vinit_using_subcommand shutdown" -s P -d 'Power off (sets INIT_HALT=POWEROFF)'
complete -c vinit -n "__fish_vinit_using_subcommand shutdown" -s r -d 'Reboot (runlevel 6)'
complete -c vinit -n "__fish_vinit_using_subcommand shutdown" -s k -d 'Only warn the users; do not shut down'
complete -c vinit -n "__fish_vinit_using_subcommand shutdown" -s c -d 'Cancel a pending shutdown (MESSAGE, if given, is sent to the users)'
complete -c vinit -n "__fish_vinit_using_subcommand shutdown" -l help -d 'Print help'
complete -c vinit -n "__fish_vinit_using_subcommand halt" -l root -d 'Work on the system below DIR' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand halt" -s n -d 'Do not sync before reboot(2)'
complete -c vinit -n "__fish_vinit_using_subcommand halt" -s w -d 'Only write the wtmp record'
complete -c vinit -n "__fish_vinit_using_subcommand halt" -s d -d 'Do not write the wtmp record'
complete -c vinit -n "__fish_vinit_using_subcommand halt" -s f -d 'Force: call reboot(2) now, without init'
complete -c vinit -n "__fish_vinit_using_subcommand halt" -s p -d 'Power off instead of halting'
complete -c vinit -n "__fish_vinit_using_subcommand halt" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vinit -n "__fish_vinit_using_subcommand reboot" -l root -d 'Work on the system below DIR' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand reboot" -s n -d 'Do not sync before reboot(2)'
complete -c vinit -n "__fish_vinit_using_subcommand reboot" -s w -d 'Only write the wtmp record'
complete -c vinit -n "__fish_vinit_using_subcommand reboot" -s d -d 'Do not write the wtmp record'
complete -c vinit -n "__fish_vinit_using_subcommand reboot" -s f -d 'Force: call reboot(2) now, without init'
complete -c vinit -n "__fish_vinit_using_subcommand reboot" -s p -d 'Power off instead of halting'
complete -c vinit -n "__fish_vinit_using_subcommand reboot" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vinit -n "__fish_vinit_using_subcommand poweroff" -l root -d 'Work on the system below DIR' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand poweroff" -s n -d 'Do not sync before reboot(2)'
complete -c vinit -n "__fish_vinit_using_subcommand poweroff" -s w -d 'Only write the wtmp record'
complete -c vinit -n "__fish_vinit_using_subcommand poweroff" -s d -d 'Do not write the wtmp record'
complete -c vinit -n "__fish_vinit_using_subcommand poweroff" -s f -d 'Force: call reboot(2) now, without init'
complete -c vinit -n "__fish_vinit_using_subcommand poweroff" -s p -d 'Power off instead of halting'
complete -c vinit -n "__fish_vinit_using_subcommand poweroff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vinit -n "__fish_vinit_using_subcommand runlevel" -l root -d 'Work on the system below DIR' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand runlevel" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vinit -n "__fish_vinit_using_subcommand rc" -l root -d 'Work on the system below DIR' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand rc" -l from -d 'The previous runlevel (default: $PREVLEVEL, else N = boot)' -r
complete -c vinit -n "__fish_vinit_using_subcommand rc" -l policy -d 'Which links to skip: run-all or subsys' -r
complete -c vinit -n "__fish_vinit_using_subcommand rc" -l timeout -d 'Seconds a script may run before its process group gets SIGTERM (0 = no limit)' -r
complete -c vinit -n "__fish_vinit_using_subcommand rc" -l kill-after -d 'Seconds between SIGTERM and SIGKILL for a script that timed out' -r
complete -c vinit -n "__fish_vinit_using_subcommand rc" -s j -l parallel -d 'At most N scripts at once (default: 4 per CPU)' -r
complete -c vinit -n "__fish_vinit_using_subcommand rc" -s n -l dry-run -d 'Print the plan, as batches of scripts that may run together, without running anything'
complete -c vinit -n "__fish_vinit_using_subcommand rc" -s s -l sequential -d 'One script at a time, in link order'
complete -c vinit -n "__fish_vinit_using_subcommand rc" -l report -d 'Show the boot report: every script of every level change since the last boot, with its start, duration and outcome, and the critical path'
complete -c vinit -n "__fish_vinit_using_subcommand rc" -l json -d 'With --report: as JSON'
complete -c vinit -n "__fish_vinit_using_subcommand rc" -s h -l help -d 'Print help'
complete -c vinit -n "__fish_vinit_using_subcommand chkconfig" -l level -l levels -d 'The runlevels to change or query (digits 0-6; default 2345 for on/off, 0-6 for reset)' -r
complete -c vinit -n "__fish_vinit_using_subcommand chkconfig" -l type -d 'Only init.d (sysv) or only xinetd services' -r -f -a "sysv\t''
xinetd\t''"
complete -c vinit -n "__fish_vinit_using_subcommand chkconfig" -l root -d 'Work on the system below DIR (vinit)' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand chkconfig" -l list -d 'List the services and their state in each runlevel'
complete -c vinit -n "__fish_vinit_using_subcommand chkconfig" -l add -d 'Link a service in every runlevel, as its header says'
complete -c vinit -n "__fish_vinit_using_subcommand chkconfig" -l del -d 'Remove every link of a service'
complete -c vinit -n "__fish_vinit_using_subcommand chkconfig" -l override -d 'Re-link a service by etc/chkconfig.d/NAME if nobody changed its links'
complete -c vinit -n "__fish_vinit_using_subcommand chkconfig" -l json -d 'With --list: print JSON (vinit)'
complete -c vinit -n "__fish_vinit_using_subcommand chkconfig" -l no-redirect -d 'Accepted for newer chkconfig\'s scripts; nothing to redirect here'
complete -c vinit -n "__fish_vinit_using_subcommand chkconfig" -s h -l help -d 'Print the usage and exit'
complete -c vinit -n "__fish_vinit_using_subcommand chkconfig" -s v -l version -d 'Print the interface version and exit'
complete -c vinit -n "__fish_vinit_using_subcommand ntsysv" -l level -l levels -d 'The runlevels to edit (digits 0-6, default 2345)' -r
complete -c vinit -n "__fish_vinit_using_subcommand ntsysv" -l root -d 'Work on the system below DIR' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand ntsysv" -l back -d 'Name the second button Back instead of Cancel (for installers)'
complete -c vinit -n "__fish_vinit_using_subcommand ntsysv" -l hide -d 'Leave out the services whose script says \'# hide: true\''
complete -c vinit -n "__fish_vinit_using_subcommand ntsysv" -s h -l help -d 'Print this help'
complete -c vinit -n "__fish_vinit_using_subcommand update-rc.d" -l root -d 'Work on the system below DIR (vinit; also $DPKG_ROOT)' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand update-rc.d" -s f -d 'Force (accepted; remove works whether the script exists or not)'
complete -c vinit -n "__fish_vinit_using_subcommand update-rc.d" -s h -l help -d 'Print the usage (on stderr, exit status 1, as Debian\'s)'
complete -c vinit -n "__fish_vinit_using_subcommand service" -l root -d 'Run the scripts of the system below DIR (vinit)' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand service" -l status-all -d 'Run every script\'s status, in name order'
complete -c vinit -n "__fish_vinit_using_subcommand service" -s h -l help -d 'Print this help (any --h… does)'
complete -c vinit -n "__fish_vinit_using_subcommand service" -s V -l version -d 'Print the interface version'
complete -c vinit -n "__fish_vinit_using_subcommand syslogd" -l root -d 'Work on the system below DIR' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand syslogd" -s f -d 'The configuration file (default: etc/syslog.conf under the root)' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand syslogd" -s p -d 'The local socket (default: dev/log under the root)' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand syslogd" -l udp -d 'Receive messages from the network on this UDP address (repeatable)' -r
complete -c vinit -n "__fish_vinit_using_subcommand syslogd" -l pidfile -d 'The pidfile (default: run/syslogd.pid under the root)' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand syslogd" -s n -l foreground -d 'Stay in the foreground (for init\'s respawn)'
complete -c vinit -n "__fish_vinit_using_subcommand syslogd" -s r -d 'Receive messages from the network on UDP port 514'
complete -c vinit -n "__fish_vinit_using_subcommand syslogd" -s h -d 'Forward messages received from the network too (they are not, by default)'
complete -c vinit -n "__fish_vinit_using_subcommand syslogd" -l no-kernel -d 'Do not read the kernel log (dev/kmsg under the root)'
complete -c vinit -n "__fish_vinit_using_subcommand syslogd" -l no-pidfile -d 'Write no pidfile'
complete -c vinit -n "__fish_vinit_using_subcommand syslogd" -l help -d 'Print help'
complete -c vinit -n "__fish_vinit_using_subcommand logger" -l root -d 'Work on the system below DIR (its dev/log)' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand logger" -l id -d 'Log ID, or else logger\'s pid' -r
complete -c vinit -n "__fish_vinit_using_subcommand logger" -s f -l file -d 'Log the lines of FILE' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand logger" -s p -l priority -d 'facility.level, or level (names or numbers; default user.notice)' -r
complete -c vinit -n "__fish_vinit_using_subcommand logger" -s S -l size -d 'The longest message (default 1024)' -r
complete -c vinit -n "__fish_vinit_using_subcommand logger" -s t -l tag -d 'Tag each message with TAG (default: the login name)' -r
complete -c vinit -n "__fish_vinit_using_subcommand logger" -s n -l server -d 'Send to this syslog server' -r
complete -c vinit -n "__fish_vinit_using_subcommand logger" -s P -l port -d 'The server\'s port (default: syslog for UDP, syslog-conn for TCP)' -r
complete -c vinit -n "__fish_vinit_using_subcommand logger" -l rfc5424 -d 'Send RFC 5424 messages (the default to a server); notime, notq, nohost leave parts out' -r
complete -c vinit -n "__fish_vinit_using_subcommand logger" -l sd-id -d 'An RFC 5424 structured data ID' -r
complete -c vinit -n "__fish_vinit_using_subcommand logger" -l sd-param -d 'A name="value" of the --sd-id before it' -r
complete -c vinit -n "__fish_vinit_using_subcommand logger" -l msgid -d 'The RFC 5424 message id' -r
complete -c vinit -n "__fish_vinit_using_subcommand logger" -s u -l socket -d 'Write to this socket (default dev/log under the root)' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand logger" -l socket-errors -d 'Report a local socket that cannot be reached (on, off, auto)' -r
complete -c vinit -n "__fish_vinit_using_subcommand logger" -s h -l help -d 'Print this help'
complete -c vinit -n "__fish_vinit_using_subcommand logger" -s V -l version -d 'Print the version'
complete -c vinit -n "__fish_vinit_using_subcommand logger" -s i -d 'Log the logger command\'s pid'
complete -c vinit -n "__fish_vinit_using_subcommand logger" -s e -l skip-empty -d 'Skip empty lines of the input'
complete -c vinit -n "__fish_vinit_using_subcommand logger" -l no-act -d 'Do everything but send'
complete -c vinit -n "__fish_vinit_using_subcommand logger" -l octet-count -d 'Frame each message with its length (RFC 6587 octet counting)'
complete -c vinit -n "__fish_vinit_using_subcommand logger" -l prio-prefix -d 'Take a <PRI> at the start of an input line as its priority'
complete -c vinit -n "__fish_vinit_using_subcommand logger" -s s -l stderr -d 'Also write each message to standard error'
complete -c vinit -n "__fish_vinit_using_subcommand logger" -s T -l tcp -d 'Use a stream (TCP) only'
complete -c vinit -n "__fish_vinit_using_subcommand logger" -s d -l udp -d 'Use datagrams (UDP) only'
complete -c vinit -n "__fish_vinit_using_subcommand logger" -l rfc3164 -d 'Send RFC 3164 messages (with the host name)'
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -l root -d 'Work on the system below DIR (default pidfiles: run/NAME.pid under it)' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -l pid -d 'The process with this pid' -r
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -l ppid -d 'Processes whose parent has this pid' -r
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s p -l pidfile -d 'The pidfile (default: run/NAME.pid under the root)' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s x -l exec -d 'The program: what --start runs, and what a process must be running to match' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s a -l startas -d 'Run this instead of --exec (a wrapper); the match is still on --exec/--name' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s n -l name -d 'The process name (as `ps` shows it, 15 characters at most) a process must have' -r
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s u -l user -d 'Only processes owned by USER (a name or a uid)' -r
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s c -l chuid -d 'Run as USER[:GROUP] (names or numbers)' -r
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s g -l group -d 'Run with this group' -r
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s d -l chdir -d 'Working directory of the program (default /)' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s N -l nicelevel -l nice -d 'Add N to the program\'s niceness' -r
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s k -l umask -d 'File creation mask of the program (octal, default 022)' -r
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s O -l output -d 'Standard output and error of the program go to FILE (appended), opened as the user it runs as' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s e -l env -d 'Set VAR=VALUE in the program\'s environment (repeatable)' -r
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -l timeout -d 'Seconds a self-daemonizing program has to write its --pidfile' -r
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s s -l signal -d 'The signal --stop sends (default TERM)' -r
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s R -l retry -d '--stop: SIG/SECS/SIG/SECS..., or SECS for SIG/SECS/KILL/SECS; wait for the exit' -r
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s l -l lockfile -d '--status: exit 2 when not running but this lock file exists' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s r -l chroot -d 'Not supported: refused' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s P -l procsched -d 'Not supported: refused' -r
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s I -l iosched -d 'Not supported: refused' -r
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -l notify-timeout -d 'Not supported: refused' -r
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s H -l help -d 'Print this help'
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s V -l version -d 'Print the version'
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s S -l start -d 'Start the program unless it runs'
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s K -l stop -d 'Stop the running program'
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s T -l status -d 'Tell whether the program runs (LSB status codes)'
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -l pidof -d 'Print the program\'s pids (exit status as --status)'
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s b -l background -d 'vinit detaches the program (it must not fork by itself)'
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s m -l make-pidfile -d 'vinit writes the pidfile, locked by the program (vinit detaches it)'
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -l forks -d 'The program daemonizes itself and may write its own pidfile: wait for that (the default without --background and --make-pidfile)'
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -l remove-pidfile -d 'Remove the pidfile after --stop'
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s o -l oknodo -d 'Exit 0 when there is nothing to do (already running, nothing to stop)'
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s t -l test -d 'Say what would be done, do nothing'
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s q -l quiet -d 'Print nothing but errors'
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s v -l verbose -d 'Say what was stopped'
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -s C -l no-close -d 'Not supported: refused'
complete -c vinit -n "__fish_vinit_using_subcommand daemon" -l notify-await -d 'Not supported: refused'
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -l root -d 'Work on the system below DIR (default pidfiles: run/NAME.pid under it)' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -l pid -d 'The process with this pid' -r
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -l ppid -d 'Processes whose parent has this pid' -r
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s p -l pidfile -d 'The pidfile (default: run/NAME.pid under the root)' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s x -l exec -d 'The program: what --start runs, and what a process must be running to match' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s a -l startas -d 'Run this instead of --exec (a wrapper); the match is still on --exec/--name' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s n -l name -d 'The process name (as `ps` shows it, 15 characters at most) a process must have' -r
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s u -l user -d 'Only processes owned by USER (a name or a uid)' -r
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s c -l chuid -d 'Run as USER[:GROUP] (names or numbers)' -r
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s g -l group -d 'Run with this group' -r
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s d -l chdir -d 'Working directory of the program (default /)' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s N -l nicelevel -l nice -d 'Add N to the program\'s niceness' -r
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s k -l umask -d 'File creation mask of the program (octal, default 022)' -r
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s O -l output -d 'Standard output and error of the program go to FILE (appended), opened as the user it runs as' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s e -l env -d 'Set VAR=VALUE in the program\'s environment (repeatable)' -r
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -l timeout -d 'Seconds a self-daemonizing program has to write its --pidfile' -r
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s s -l signal -d 'The signal --stop sends (default TERM)' -r
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s R -l retry -d '--stop: SIG/SECS/SIG/SECS..., or SECS for SIG/SECS/KILL/SECS; wait for the exit' -r
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s l -l lockfile -d '--status: exit 2 when not running but this lock file exists' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s r -l chroot -d 'Not supported: refused' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s P -l procsched -d 'Not supported: refused' -r
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s I -l iosched -d 'Not supported: refused' -r
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -l notify-timeout -d 'Not supported: refused' -r
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s H -l help -d 'Print this help'
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s V -l version -d 'Print the version'
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s S -l start -d 'Start the program unless it runs'
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s K -l stop -d 'Stop the running program'
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s T -l status -d 'Tell whether the program runs (LSB status codes)'
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -l pidof -d 'Print the program\'s pids (exit status as --status)'
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s b -l background -d 'vinit detaches the program (it must not fork by itself)'
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s m -l make-pidfile -d 'vinit writes the pidfile, locked by the program (vinit detaches it)'
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -l forks -d 'The program daemonizes itself and may write its own pidfile: wait for that (the default without --background and --make-pidfile)'
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -l remove-pidfile -d 'Remove the pidfile after --stop'
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s o -l oknodo -d 'Exit 0 when there is nothing to do (already running, nothing to stop)'
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s t -l test -d 'Say what would be done, do nothing'
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s q -l quiet -d 'Print nothing but errors'
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s v -l verbose -d 'Say what was stopped'
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -s C -l no-close -d 'Not supported: refused'
complete -c vinit -n "__fish_vinit_using_subcommand start-stop-daemon" -l notify-await -d 'Not supported: refused'
complete -c vinit -n "__fish_vinit_using_subcommand xinetd" -l root -d 'Work on the system below DIR' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand xinetd" -s f -d 'Read this configuration file (xinetd.conf; for inetd, inetd.conf)' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand xinetd" -l pidfile -d 'Write the process id here (default: run/xinetd.pid, or run/inetd.pid)' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand xinetd" -l syslog -d 'Log the superserver\'s own messages to syslog with this facility' -r
complete -c vinit -n "__fish_vinit_using_subcommand xinetd" -l filelog -d 'Log the superserver\'s own messages to this file' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand xinetd" -s d -d 'Debug: stay in the foreground and copy every message to stderr'
complete -c vinit -n "__fish_vinit_using_subcommand xinetd" -l dontfork -d 'Stay in the foreground'
complete -c vinit -n "__fish_vinit_using_subcommand xinetd" -l inetd-compat -d 'Also read etc/inetd.conf'
complete -c vinit -n "__fish_vinit_using_subcommand xinetd" -l stayalive -d 'Keep running with no service to serve (-dontfork implies it, as in xinetd)'
complete -c vinit -n "__fish_vinit_using_subcommand xinetd" -l check -d 'Only check the configuration and print the effective services'
complete -c vinit -n "__fish_vinit_using_subcommand xinetd" -l version -d 'Print the version'
complete -c vinit -n "__fish_vinit_using_subcommand xinetd" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vinit -n "__fish_vinit_using_subcommand inetd" -l root -d 'Work on the system below DIR' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand inetd" -s f -d 'Read this configuration file (xinetd.conf; for inetd, inetd.conf)' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand inetd" -l pidfile -d 'Write the process id here (default: run/xinetd.pid, or run/inetd.pid)' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand inetd" -l syslog -d 'Log the superserver\'s own messages to syslog with this facility' -r
complete -c vinit -n "__fish_vinit_using_subcommand inetd" -l filelog -d 'Log the superserver\'s own messages to this file' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand inetd" -s d -d 'Debug: stay in the foreground and copy every message to stderr'
complete -c vinit -n "__fish_vinit_using_subcommand inetd" -l dontfork -d 'Stay in the foreground'
complete -c vinit -n "__fish_vinit_using_subcommand inetd" -l inetd-compat -d 'Also read etc/inetd.conf'
complete -c vinit -n "__fish_vinit_using_subcommand inetd" -l stayalive -d 'Keep running with no service to serve (-dontfork implies it, as in xinetd)'
complete -c vinit -n "__fish_vinit_using_subcommand inetd" -l check -d 'Only check the configuration and print the effective services'
complete -c vinit -n "__fish_vinit_using_subcommand inetd" -l version -d 'Print the version'
complete -c vinit -n "__fish_vinit_using_subcommand inetd" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vinit -n "__fish_vinit_using_subcommand install-links" -l target -d 'Point the links here instead of at the running binary' -r -F
complete -c vinit -n "__fish_vinit_using_subcommand install-links" -l dry-run -d 'List what would be created without creating it'
complete -c vinit -n "__fish_vinit_using_subcommand install-links" -s h -l help -d 'Print help'
complete -c vinit -n "__fish_vinit_using_subcommand help; and not __fish_seen_subcommand_from init telinit shutdown halt runlevel rc chkconfig ntsysv update-rc.d service syslogd logger daemon xinetd install-links help" -f -a "init" -d 'PID 1: run inittab, runlevels, respawn and shutdown; a container\'s init; a subreaper'
complete -c vinit -n "__fish_vinit_using_subcommand help; and not __fish_seen_subcommand_from init telinit shutdown halt runlevel rc chkconfig ntsysv update-rc.d service syslogd logger daemon xinetd install-links help" -f -a "telinit" -d 'Ask init to change the runlevel, re-read inittab, re-execute or set INIT_* variables'
complete -c vinit -n "__fish_vinit_using_subcommand help; and not __fish_seen_subcommand_from init telinit shutdown halt runlevel rc chkconfig ntsysv update-rc.d service syslogd logger daemon xinetd install-links help" -f -a "shutdown" -d 'Bring the system down at a given time, warning logged-in users'
complete -c vinit -n "__fish_vinit_using_subcommand help; and not __fish_seen_subcommand_from init telinit shutdown halt runlevel rc chkconfig ntsysv update-rc.d service syslogd logger daemon xinetd install-links help" -f -a "halt" -d 'Halt, reboot or power off the machine'
complete -c vinit -n "__fish_vinit_using_subcommand help; and not __fish_seen_subcommand_from init telinit shutdown halt runlevel rc chkconfig ntsysv update-rc.d service syslogd logger daemon xinetd install-links help" -f -a "runlevel" -d 'Print the previous and the current runlevel'
complete -c vinit -n "__fish_vinit_using_subcommand help; and not __fish_seen_subcommand_from init telinit shutdown halt runlevel rc chkconfig ntsysv update-rc.d service syslogd logger daemon xinetd install-links help" -f -a "rc" -d 'Run the rc scripts of a runlevel: K links with stop, then S links with start, each as soon as what it depends on has finished'
complete -c vinit -n "__fish_vinit_using_subcommand help; and not __fish_seen_subcommand_from init telinit shutdown halt runlevel rc chkconfig ntsysv update-rc.d service syslogd logger daemon xinetd install-links help" -f -a "chkconfig" -d 'List and change which services start in which runlevels'
complete -c vinit -n "__fish_vinit_using_subcommand help; and not __fish_seen_subcommand_from init telinit shutdown halt runlevel rc chkconfig ntsysv update-rc.d service syslogd logger daemon xinetd install-links help" -f -a "ntsysv" -d 'Choose on a full screen which services start in which runlevels'
complete -c vinit -n "__fish_vinit_using_subcommand help; and not __fish_seen_subcommand_from init telinit shutdown halt runlevel rc chkconfig ntsysv update-rc.d service syslogd logger daemon xinetd install-links help" -f -a "update-rc.d" -d 'Install and remove a service\'s rc links (Debian\'s update-rc.d)'
complete -c vinit -n "__fish_vinit_using_subcommand help; and not __fish_seen_subcommand_from init telinit shutdown halt runlevel rc chkconfig ntsysv update-rc.d service syslogd logger daemon xinetd install-links help" -f -a "service" -d 'Run an init script in a clean environment'
complete -c vinit -n "__fish_vinit_using_subcommand help; and not __fish_seen_subcommand_from init telinit shutdown halt runlevel rc chkconfig ntsysv update-rc.d service syslogd logger daemon xinetd install-links help" -f -a "syslogd" -d 'System log daemon: receives messages on dev/log (and UDP, and the kernel log) and writes them where etc/syslog.conf says'
complete -c vinit -n "__fish_vinit_using_subcommand help; and not __fish_seen_subcommand_from init telinit shutdown halt runlevel rc chkconfig ntsysv update-rc.d service syslogd logger daemon xinetd install-links help" -f -a "logger" -d 'Enter messages into the system log'
complete -c vinit -n "__fish_vinit_using_subcommand help; and not __fish_seen_subcommand_from init telinit shutdown halt runlevel rc chkconfig ntsysv update-rc.d service syslogd logger daemon xinetd install-links help" -f -a "daemon" -d 'Start, stop and check daemons (dpkg\'s start-stop-daemon)'
complete -c vinit -n "__fish_vinit_using_subcommand help; and not __fish_seen_subcommand_from init telinit shutdown halt runlevel rc chkconfig ntsysv update-rc.d service syslogd logger daemon xinetd install-links help" -f -a "xinetd" -d 'The superserver: listen for many services, start each server when a request comes'
complete -c vinit -n "__fish_vinit_using_subcommand help; and not __fish_seen_subcommand_from init telinit shutdown halt runlevel rc chkconfig ntsysv update-rc.d service syslogd logger daemon xinetd install-links help" -f -a "install-links" -d 'Create a link named after each tool, pointing at this binary'
complete -c vinit -n "__fish_vinit_using_subcommand help; and not __fish_seen_subcommand_from init telinit shutdown halt runlevel rc chkconfig ntsysv update-rc.d service syslogd logger daemon xinetd install-links help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
