# bash completion for genesisctl (installed into share/bash-completion/completions).
# Commands, their sub-commands and options; component ids are completed from the running
# coordinator's status (genesisctl status --json) when it answers within a second.

_genesisctl_components()
{
    local url_opts=()
    local i
    for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
        case "${COMP_WORDS[i]}" in
        --url | --events) url_opts+=("${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}") ;;
        esac
    done
    genesisctl "${url_opts[@]}" --timeout 1000 status --json 2>/dev/null |
        grep -o '"id":"[^"]*"' | sed 's/"id":"\(.*\)"/\1/'
}

_genesisctl()
{
    local cur prev words cword
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD - 1]}"
    local commands="status request emit watch mode breaker policy fault checkpoint supervisor reload"
    local options="--url --events --timeout --source --json --verbose --version --help"

    case "$prev" in
    -o | --output)
        COMPREPLY=($(compgen -W "text wide json" -- "$cur"))
        return 0
        ;;
    --url | --events | --timeout | --source | --count | --type | --from)
        return 0
        ;;
    esac

    # The command is the first word that is neither an option nor an option's value.
    local command="" arg_index=0 i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
        --url | --events | --timeout | --source | --count | --type | --from | -o | --output) ((i++)) ;;
        -*) ;;
        *)
            if [[ -z "$command" ]]; then
                command="${COMP_WORDS[i]}"
            else
                ((arg_index++))
            fi
            ;;
        esac
    done

    if [[ "$cur" == -* ]]; then
        case "$command" in
        status) COMPREPLY=($(compgen -W "$options -o --output" -- "$cur")) ;;
        watch) COMPREPLY=($(compgen -W "$options --count --type --from" -- "$cur")) ;;
        *) COMPREPLY=($(compgen -W "$options" -- "$cur")) ;;
        esac
        return 0
    fi

    case "$command" in
    "")
        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        ;;
    mode)
        [[ $arg_index -eq 0 ]] && COMPREPLY=($(compgen -W "NORMAL SAFE EMERGENCY AUTO" -- "$cur"))
        ;;
    breaker)
        case $arg_index in
        0) COMPREPLY=($(compgen -W "$(_genesisctl_components)" -- "$cur")) ;;
        1) COMPREPLY=($(compgen -W "open close reset disable" -- "$cur")) ;;
        esac
        ;;
    request | policy | fault)
        [[ $arg_index -eq 0 ]] && COMPREPLY=($(compgen -W "$(_genesisctl_components)" -- "$cur"))
        ;;
    checkpoint)
        case $arg_index in
        0) COMPREPLY=($(compgen -W "list show restore" -- "$cur")) ;;
        1) COMPREPLY=($(compgen -W "$(_genesisctl_components)" -- "$cur")) ;;
        esac
        ;;
    supervisor)
        case $arg_index in
        0) COMPREPLY=($(compgen -W "restart" -- "$cur")) ;;
        1) COMPREPLY=($(compgen -W "$(_genesisctl_components)" -- "$cur")) ;;
        esac
        ;;
    esac
    return 0
}

complete -F _genesisctl genesisctl
