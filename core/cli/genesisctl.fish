# fish completion for genesisctl (installed into share/fish/vendor_completions.d).
# Commands, their sub-commands and options; component ids are completed from the running
# coordinator's status (genesisctl status --json) when it answers within a second.

function __genesisctl_components
    command -q genesisctl; or return
    set -l url_opts
    set -l words (commandline -opc)
    for i in (seq (count $words))
        switch $words[$i]
            case --url --events
                set -l next (math $i + 1)
                if test $next -le (count $words)
                    set url_opts $url_opts $words[$i] $words[$next]
                end
        end
    end
    genesisctl $url_opts --timeout 1000 status --json 2>/dev/null | string match -r -g '"id":"([^"]*)"'
end

# The command and the arguments after it (options and their values left out).
function __genesisctl_args
    set -l words (commandline -opc)
    set -e words[1]
    set -l out
    set -l skip 0
    for w in $words
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $w
            case --url --events --timeout --source --request-id --count --type --from -o --output
                set skip 1
            case '-*'
            case '*'
                set out $out $w
        end
    end
    test (count $out) -gt 0; and printf '%s\n' $out
end

# True when the words so far (without options) are exactly the given ones.
function __genesisctl_at
    set -l args (__genesisctl_args)
    test (count $args) -eq (count $argv); or return 1
    for i in (seq (count $argv))
        test "$argv[$i]" = '*'; and continue
        test "$args[$i]" = "$argv[$i]"; or return 1
    end
end

set -l commands status request emit watch mode breaker policy fault checkpoint supervisor reload
complete -c genesisctl -f
complete -c genesisctl -n "test (count (__genesisctl_args)) -eq 0" -a "$commands"
complete -c genesisctl -l url -r -d 'front door URL'
complete -c genesisctl -l events -r -d 'event bus URL'
complete -c genesisctl -l timeout -r -d 'deadline of each call (500ms, 5s)'
complete -c genesisctl -l source -r -d 'caller identity'
complete -c genesisctl -l request-id -r -d 'correlation id'
complete -c genesisctl -l json -d 'print JSON (status and the operator commands)'
complete -c genesisctl -s o -l output -x -a 'text wide json' -d 'status format'
complete -c genesisctl -l count -r -d 'watch: stop after N events'
complete -c genesisctl -l type -r -d 'watch: event types starting with this'
complete -c genesisctl -l from -r -d 'watch: events from this source'
complete -c genesisctl -s v -l verbose -d 'say more'
complete -c genesisctl -l version -d 'print the version'
complete -c genesisctl -s h -l help -d 'print the help'
complete -c genesisctl -n '__genesisctl_at mode' -a 'NORMAL SAFE EMERGENCY AUTO'
complete -c genesisctl -n '__genesisctl_at breaker' -a '(__genesisctl_components)'
complete -c genesisctl -n '__genesisctl_at breaker "*"' -a 'open close reset disable'
complete -c genesisctl -n '__genesisctl_at request; or __genesisctl_at policy; or __genesisctl_at fault' -a '(__genesisctl_components)'
complete -c genesisctl -n '__genesisctl_at checkpoint' -a 'list show restore'
complete -c genesisctl -n '__genesisctl_at checkpoint "*"' -a '(__genesisctl_components)'
complete -c genesisctl -n '__genesisctl_at supervisor' -a 'restart'
complete -c genesisctl -n '__genesisctl_at supervisor restart' -a '(__genesisctl_components)'
