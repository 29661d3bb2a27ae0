# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Bash completion for overlay-helper(8): commands, options, and instance
# names read from the config dir (--config-dir on the line, else
# /etc/overlay-helper) and the runtime dir's records of mounted instances.
# It needs nothing from the bash-completion package, so tests can source it
# alone (tests/static/completion.bats), and it is safe under set -e.

# The options as the helper's option loop knows them (helper/cli.c).
_overlay_helper_globals='--config-dir --state-dir --runtime-dir --json -q --quiet -v --verbose -h --help --version'
_overlay_helper_verbs='mount umount purge status probe'

# The options each command adds (the verb table in helper/main.c).
_overlay_helper_verb_options()
{
    case $1 in
    mount | umount | purge) echo --wait ;;
    probe) echo --watch --interval --timeout ;;
    esac
}

# Instance names that a file or record in the dirs gives: NAME for
# NAME.conf or NAME.mounted, NAME@ for a template NAME@.conf (the user types
# the instance part). Names the helper would refuse are left out.
_overlay_helper_instances()
{
    local config_dir=$1 runtime_dir=$2 f name
    local -a names=()

    for f in "$config_dir"/*.conf "$runtime_dir"/*.mounted; do
        [[ -f $f ]] || continue
        name=${f##*/}
        name=${name%.*}
        [[ $name =~ ^[A-Za-z0-9_@][A-Za-z0-9_.@-]{0,127}$ && $name != *..* ]] || continue
        # a record names an instance, never a template
        if [[ $f != *.mounted || $name != *@ ]]; then
            names+=("$name")
        fi
    done
    if ((${#names[@]})); then
        printf '%s\n' "${names[@]}" | sort -u
    fi
}

# COMPREPLY from the words in $1 that start with $2, one per line in $1.
_overlay_helper_reply()
{
    local line
    while IFS= read -r line; do
        if [[ -n $line && $line == "$2"* ]]; then
            COMPREPLY+=("$line")
        fi
    done <<<"$1"
}

_overlay_helper()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=
    local config_dir=/etc/overlay-helper runtime_dir=/run/overlay-helper
    local verb='' option='' value='' w i n_operands=0

    if ((COMP_CWORD > 0)); then
        prev=${COMP_WORDS[COMP_CWORD - 1]}
    fi
    COMPREPLY=()

    # What the words before the cursor say: the command, the dirs, and how
    # many operands it has. "--opt=VALUE" comes as one word, or as three
    # ("--opt" "=" "VALUE") where '=' is in COMP_WORDBREAKS.
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        option='' value=''
        case $w in
        --config-dir | --state-dir | --runtime-dir | --wait | --interval | --timeout)
            option=$w
            if [[ ${COMP_WORDS[i + 1]-} == = ]]; then
                ((i + 2 < COMP_CWORD)) || break
                value=${COMP_WORDS[i + 2]}
                ((i += 2))
            else
                ((i + 1 < COMP_CWORD)) || break
                value=${COMP_WORDS[i + 1]}
                ((i += 1))
            fi
            ;;
        --*=*)
            option=${w%%=*} value=${w#*=}
            ;;
        -*) ;;
        *)
            if [[ -z $verb ]]; then
                verb=$w
            else
                n_operands=$((n_operands + 1))
            fi
            ;;
        esac
        # the helper takes "~" from the shell, expanded; a value typed here
        # is not expanded yet
        if [[ $value == "~"* ]]; then
            value=$HOME${value:1}
        fi
        case $option in
        --config-dir) config_dir=$value ;;
        --runtime-dir) runtime_dir=$value ;;
        esac
    done

    # The value of an option that takes one.
    local value_of='' typed=$cur prefix=''
    if [[ $cur == --*=* ]]; then
        value_of=${cur%%=*} typed=${cur#*=} prefix=${cur%%=*}=
    elif [[ $cur == = ]]; then
        value_of=$prev typed=
    elif [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
        value_of=${COMP_WORDS[COMP_CWORD - 2]}
    elif [[ $prev == --* ]]; then
        value_of=$prev
    fi
    case $value_of in
    --config-dir | --state-dir | --runtime-dir)
        compopt -o filenames 2>/dev/null || :
        _overlay_helper_reply "$(compgen -d -- "$typed")" "$typed"
        # one word "--opt=DIR" (no '=' in COMP_WORDBREAKS) is replaced whole
        if [[ -n $prefix ]]; then
            COMPREPLY=("${COMPREPLY[@]/#/$prefix}")
        fi
        return 0
        ;;
    --wait | --interval | --timeout)
        return 0 # seconds: nothing to offer
        ;;
    esac

    if [[ $cur == -* ]]; then
        local options=$_overlay_helper_globals
        if [[ -n $verb ]]; then
            options+=" $(_overlay_helper_verb_options "$verb")"
        fi
        # shellcheck disable=SC2086 # the lists are words
        _overlay_helper_reply "$(printf '%s\n' $options)" "$cur"
        return 0
    fi

    if [[ -z $verb ]]; then
        # shellcheck disable=SC2086
        _overlay_helper_reply "$(printf '%s\n' $_overlay_helper_verbs)" "$cur"
        return 0
    fi

    case $verb in
    mount | umount | purge | probe)
        ((n_operands == 0)) || return 0
        ;;
    status) ;;
    *) return 0 ;;
    esac
    _overlay_helper_reply "$(_overlay_helper_instances "$config_dir" "$runtime_dir")" "$cur"
    if [[ $verb == probe ]]; then
        # a path, a block device or an image file too
        compopt -o filenames 2>/dev/null || :
        _overlay_helper_reply "$(compgen -f -- "$cur")" "$cur"
    fi
    # "game@" wants the instance typed right after it
    if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == *@ ]]; then
        compopt -o nospace 2>/dev/null || :
    fi
    return 0
}

complete -F _overlay_helper overlay-helper
