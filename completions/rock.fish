# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_rock_global_optspecs
    string join \n config= q/quiet v/verbose color= h/help V/version
end

function __fish_rock_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_rock_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_rock_using_subcommand
    set -l cmd (__fish_rock_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c rock -n "__fish_rock_needs_command" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_needs_command" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_needs_command" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_needs_command" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_needs_command" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_needs_command" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_needs_command" -f -a "exec" -d 'Run code in a sandbox, calling main(**arguments) when the code defines it'
complete -c rock -n "__fish_rock_needs_command" -f -a "provider" -d 'List, test and describe sandbox providers'
complete -c rock -n "__fish_rock_needs_command" -f -a "env" -d 'Create and use runtime envs: standalone Python and Node.js with packages'
complete -c rock -n "__fish_rock_needs_command" -f -a "config" -d 'Read and change the config file'
complete -c rock -n "__fish_rock_needs_command" -f -a "serve" -d 'Serve the executor HTTP API (RAGFlow\'s sandbox executor manager) over rock\'s sandboxes'
complete -c rock -n "__fish_rock_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c rock -n "__fish_rock_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rock -n "__fish_rock_using_subcommand exec" -s c -l code -d 'Code given inline instead of a file' -r
complete -c rock -n "__fish_rock_using_subcommand exec" -s l -l lang -d 'python (python3, py) or nodejs (node, javascript, js); default: from the file\'s extension' -r
complete -c rock -n "__fish_rock_using_subcommand exec" -s a -l args -d 'An argument for main(): name=value for a string, name:=json for any JSON value' -r
complete -c rock -n "__fish_rock_using_subcommand exec" -l args-json -d 'All arguments as one JSON object, or @file.json' -r
complete -c rock -n "__fish_rock_using_subcommand exec" -s t -l timeout -d 'Wall-clock limit in seconds [default: 10] [env: ROCK_TIMEOUT]' -r
complete -c rock -n "__fish_rock_using_subcommand exec" -s m -l memory -d 'Memory limit, e.g. 256MiB or 1G; a bare number means MiB [default: 256MiB] [env: ROCK_MEMORY]' -r
complete -c rock -n "__fish_rock_using_subcommand exec" -l output-cap -d 'Keep at most this much of stdout and of stderr [default: 1MiB] [env: ROCK_OUTPUT_CAP]' -r
complete -c rock -n "__fish_rock_using_subcommand exec" -l stdin -d 'Feed this file (or - for rock\'s own stdin) to the program\'s stdin' -r
complete -c rock -n "__fish_rock_using_subcommand exec" -l env -d 'Run with this runtime env\'s interpreter (and packages): its id or name' -r
complete -c rock -n "__fish_rock_using_subcommand exec" -s p -l provider -d 'The sandbox provider [default: local] [env: ROCK_PROVIDER]' -r
complete -c rock -n "__fish_rock_using_subcommand exec" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand exec" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand exec" -l network -d 'Let the program use the host\'s network (default: loopback only) [env: ROCK_NETWORK]'
complete -c rock -n "__fish_rock_using_subcommand exec" -l no-network -d 'Loopback only, whatever the config or environment says'
complete -c rock -n "__fish_rock_using_subcommand exec" -l json -d 'Print one JSON object with every field of the result instead of the program\'s output'
complete -c rock -n "__fish_rock_using_subcommand exec" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand exec" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand exec" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand exec" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand provider; and not __fish_seen_subcommand_from list test schema help" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand provider; and not __fish_seen_subcommand_from list test schema help" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand provider; and not __fish_seen_subcommand_from list test schema help" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand provider; and not __fish_seen_subcommand_from list test schema help" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand provider; and not __fish_seen_subcommand_from list test schema help" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand provider; and not __fish_seen_subcommand_from list test schema help" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand provider; and not __fish_seen_subcommand_from list test schema help" -f -a "list" -d 'Show every provider and whether it can run code now'
complete -c rock -n "__fish_rock_using_subcommand provider; and not __fish_seen_subcommand_from list test schema help" -f -a "test" -d 'Check a provider\'s health and run a tiny program in each of its languages'
complete -c rock -n "__fish_rock_using_subcommand provider; and not __fish_seen_subcommand_from list test schema help" -f -a "schema" -d 'Print a provider\'s config schema as JSON'
complete -c rock -n "__fish_rock_using_subcommand provider; and not __fish_seen_subcommand_from list test schema help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from list" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from list" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from test" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from test" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from test" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from test" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from test" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from test" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from schema" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from schema" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from schema" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from schema" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from schema" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from schema" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from help" -f -a "list" -d 'Show every provider and whether it can run code now'
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from help" -f -a "test" -d 'Check a provider\'s health and run a tiny program in each of its languages'
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from help" -f -a "schema" -d 'Print a provider\'s config schema as JSON'
complete -c rock -n "__fish_rock_using_subcommand provider; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rock -n "__fish_rock_using_subcommand env; and not __fish_seen_subcommand_from create run wrap list show rm help" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand env; and not __fish_seen_subcommand_from create run wrap list show rm help" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand env; and not __fish_seen_subcommand_from create run wrap list show rm help" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand env; and not __fish_seen_subcommand_from create run wrap list show rm help" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand env; and not __fish_seen_subcommand_from create run wrap list show rm help" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand env; and not __fish_seen_subcommand_from create run wrap list show rm help" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand env; and not __fish_seen_subcommand_from create run wrap list show rm help" -f -a "create" -d 'Install a runtime env: a standalone Python or Node.js (or a custom type) with packages'
complete -c rock -n "__fish_rock_using_subcommand env; and not __fish_seen_subcommand_from create run wrap list show rm help" -f -a "run" -d 'Run a command with the env\'s bin first on PATH; its exit code is rock\'s'
complete -c rock -n "__fish_rock_using_subcommand env; and not __fish_seen_subcommand_from create run wrap list show rm help" -f -a "wrap" -d 'Print the command `run` would execute (ROCK\'s wrapped_cmd)'
complete -c rock -n "__fish_rock_using_subcommand env; and not __fish_seen_subcommand_from create run wrap list show rm help" -f -a "list" -d 'List the envs'
complete -c rock -n "__fish_rock_using_subcommand env; and not __fish_seen_subcommand_from create run wrap list show rm help" -f -a "show" -d 'Show one env: type, version, config, paths'
complete -c rock -n "__fish_rock_using_subcommand env; and not __fish_seen_subcommand_from create run wrap list show rm help" -f -a "rm" -d 'Remove envs, with the symlinks they made'
complete -c rock -n "__fish_rock_using_subcommand env; and not __fish_seen_subcommand_from create run wrap list show rm help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from create" -l version -d 'python: 3.11 or 3.12; node: 22.18.0 [default: the type\'s default]' -r
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from create" -l name -d 'A name to use instead of the id' -r
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from create" -l pip -d 'A package to pip install (python); repeat for more' -r
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from create" -l requirements -d 'A requirements file to pip install (python)' -r -F
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from create" -l pip-index-url -d 'The package index for this env\'s pip [default: runtime_envs.pip_index_url]' -r
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from create" -l npm-registry -d 'The npm registry for this env (node) [default: runtime_envs.npm_registry]' -r
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from create" -l symlink-dir -d 'Make symlinks to the env\'s executables in this directory' -r -F
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from create" -l symlink -d 'An executable to link [default: python, python3, pip, pip3 / node, npm, npx]' -r
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from create" -l env -d 'An environment variable for every install step, K=V; repeat for more' -r
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from create" -l install-timeout -d 'Bound on the whole install, in seconds [default: 600]' -r
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from create" -l custom-install-cmd -d 'A command run in the env\'s work dir, with the env on PATH, after the install' -r
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from create" -l provider -d 'Make the env in a sandbox of this provider (e2b, rock) instead of on this machine' -r
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from create" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from create" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from create" -l json -d 'Print the new env as JSON'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from run" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from run" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from run" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from run" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from wrap" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from wrap" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from wrap" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from wrap" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from wrap" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from wrap" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from list" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from list" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from list" -l json
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from show" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from show" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from show" -l json
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from rm" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from rm" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from rm" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from rm" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from help" -f -a "create" -d 'Install a runtime env: a standalone Python or Node.js (or a custom type) with packages'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from help" -f -a "run" -d 'Run a command with the env\'s bin first on PATH; its exit code is rock\'s'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from help" -f -a "wrap" -d 'Print the command `run` would execute (ROCK\'s wrapped_cmd)'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the envs'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one env: type, version, config, paths'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Remove envs, with the symlinks they made'
complete -c rock -n "__fish_rock_using_subcommand env; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rock -n "__fish_rock_using_subcommand config; and not __fish_seen_subcommand_from set get unset show path edit help" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand config; and not __fish_seen_subcommand_from set get unset show path edit help" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand config; and not __fish_seen_subcommand_from set get unset show path edit help" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand config; and not __fish_seen_subcommand_from set get unset show path edit help" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand config; and not __fish_seen_subcommand_from set get unset show path edit help" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand config; and not __fish_seen_subcommand_from set get unset show path edit help" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand config; and not __fish_seen_subcommand_from set get unset show path edit help" -f -a "set" -d 'Set a key (e.g. default.timeout) to a value, checked against the key\'s type first'
complete -c rock -n "__fish_rock_using_subcommand config; and not __fish_seen_subcommand_from set get unset show path edit help" -f -a "get" -d 'Print a key\'s value: the environment\'s, else the file\'s, else the default'
complete -c rock -n "__fish_rock_using_subcommand config; and not __fish_seen_subcommand_from set get unset show path edit help" -f -a "unset" -d 'Remove a key, or a whole section, from the file'
complete -c rock -n "__fish_rock_using_subcommand config; and not __fish_seen_subcommand_from set get unset show path edit help" -f -a "show" -d 'Print every key\'s value and where it comes from'
complete -c rock -n "__fish_rock_using_subcommand config; and not __fish_seen_subcommand_from set get unset show path edit help" -f -a "path" -d 'Print the path of the config file in use'
complete -c rock -n "__fish_rock_using_subcommand config; and not __fish_seen_subcommand_from set get unset show path edit help" -f -a "edit" -d 'Open the config file in $VISUAL or $EDITOR, and keep the result only if it is valid'
complete -c rock -n "__fish_rock_using_subcommand config; and not __fish_seen_subcommand_from set get unset show path edit help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from set" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from set" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from set" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from set" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from set" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from get" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from get" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from get" -l reveal -d 'Print secrets as they are'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from get" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from unset" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from unset" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from unset" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from unset" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from unset" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from unset" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from show" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from show" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from show" -l json -d 'One JSON object instead of TOML'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from show" -l reveal -d 'Print secrets as they are'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from path" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from path" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from path" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from path" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from path" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from path" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from edit" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from edit" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from edit" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from edit" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from edit" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from edit" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "set" -d 'Set a key (e.g. default.timeout) to a value, checked against the key\'s type first'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "get" -d 'Print a key\'s value: the environment\'s, else the file\'s, else the default'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "unset" -d 'Remove a key, or a whole section, from the file'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print every key\'s value and where it comes from'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "path" -d 'Print the path of the config file in use'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "edit" -d 'Open the config file in $VISUAL or $EDITOR, and keep the result only if it is valid'
complete -c rock -n "__fish_rock_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rock -n "__fish_rock_using_subcommand serve" -l listen -d 'Address to listen on; without a token only a loopback address is allowed' -r
complete -c rock -n "__fish_rock_using_subcommand serve" -l sandbox -d 'The provider whose sandboxes run the code: local, gvisor or docker' -r
complete -c rock -n "__fish_rock_using_subcommand serve" -l pool -d 'Warm sandboxes to keep ready per language [default: serve.pool.python and serve.pool.nodejs in the config, 4 and 2]' -r
complete -c rock -n "__fish_rock_using_subcommand serve" -l max-concurrency -d 'Programs that may run at once [default: the number of CPUs]' -r
complete -c rock -n "__fish_rock_using_subcommand serve" -l queue -d 'Requests that may wait for a free slot; beyond that they are refused as busy' -r
complete -c rock -n "__fish_rock_using_subcommand serve" -l queue-timeout -d 'How long a request may wait for a free slot before it is refused as busy' -r
complete -c rock -n "__fish_rock_using_subcommand serve" -l token-file -d 'File holding the API token [default: $SANDBOX_EXECUTOR_MANAGER_API_TOKEN]' -r -F
complete -c rock -n "__fish_rock_using_subcommand serve" -l rate-limit -d 'Runs per minute for all callers together, such as 600/min or 10/s' -r
complete -c rock -n "__fish_rock_using_subcommand serve" -l max-timeout -d 'Largest timeout a request may ask for' -r
complete -c rock -n "__fish_rock_using_subcommand serve" -l max-memory -d 'Largest memory a request may ask for' -r
complete -c rock -n "__fish_rock_using_subcommand serve" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand serve" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand serve" -l log-json -d 'Log one JSON object per line instead of text'
complete -c rock -n "__fish_rock_using_subcommand serve" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand serve" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand serve" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand serve" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand completions" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand completions" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand completions" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand completions" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand completions" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand completions" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand help; and not __fish_seen_subcommand_from exec provider env config serve completions help" -f -a "exec" -d 'Run code in a sandbox, calling main(**arguments) when the code defines it'
complete -c rock -n "__fish_rock_using_subcommand help; and not __fish_seen_subcommand_from exec provider env config serve completions help" -f -a "provider" -d 'List, test and describe sandbox providers'
complete -c rock -n "__fish_rock_using_subcommand help; and not __fish_seen_subcommand_from exec provider env config serve completions help" -f -a "env" -d 'Create and use runtime envs: standalone Python and Node.js with packages'
complete -c rock -n "__fish_rock_using_subcommand help; and not __fish_seen_subcommand_from exec provider env config serve completions help" -f -a "config" -d 'Read and change the config file'
complete -c rock -n "__fish_rock_using_subcommand help; and not __fish_seen_subcommand_from exec provider env config serve completions help" -f -a "serve" -d 'Serve the executor HTTP API (RAGFlow\'s sandbox executor manager) over rock\'s sandboxes'
complete -c rock -n "__fish_rock_using_subcommand help; and not __fish_seen_subcommand_from exec provider env config serve completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c rock -n "__fish_rock_using_subcommand help; and not __fish_seen_subcommand_from exec provider env config serve completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rock -n "__fish_rock_using_subcommand help; and __fish_seen_subcommand_from provider" -f -a "list" -d 'Show every provider and whether it can run code now'
complete -c rock -n "__fish_rock_using_subcommand help; and __fish_seen_subcommand_from provider" -f -a "test" -d 'Check a provider\'s health and run a tiny program in each of its languages'
complete -c rock -n "__fish_rock_using_subcommand help; and __fish_seen_subcommand_from provider" -f -a "schema" -d 'Print a provider\'s config schema as JSON'
complete -c rock -n "__fish_rock_using_subcommand help; and __fish_seen_subcommand_from env" -f -a "create" -d 'Install a runtime env: a standalone Python or Node.js (or a custom type) with packages'
complete -c rock -n "__fish_rock_using_subcommand help; and __fish_seen_subcommand_from env" -f -a "run" -d 'Run a command with the env\'s bin first on PATH; its exit code is rock\'s'
complete -c rock -n "__fish_rock_using_subcommand help; and __fish_seen_subcommand_from env" -f -a "wrap" -d 'Print the command `run` would execute (ROCK\'s wrapped_cmd)'
complete -c rock -n "__fish_rock_using_subcommand help; and __fish_seen_subcommand_from env" -f -a "list" -d 'List the envs'
complete -c rock -n "__fish_rock_using_subcommand help; and __fish_seen_subcommand_from env" -f -a "show" -d 'Show one env: type, version, config, paths'
complete -c rock -n "__fish_rock_using_subcommand help; and __fish_seen_subcommand_from env" -f -a "rm" -d 'Remove envs, with the symlinks they made'
complete -c rock -n "__fish_rock_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "set" -d 'Set a key (e.g. default.timeout) to a value, checked against the key\'s type first'
complete -c rock -n "__fish_rock_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "get" -d 'Print a key\'s value: the environment\'s, else the file\'s, else the default'
complete -c rock -n "__fish_rock_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "unset" -d 'Remove a key, or a whole section, from the file'
complete -c rock -n "__fish_rock_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "show" -d 'Print every key\'s value and where it comes from'
complete -c rock -n "__fish_rock_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "path" -d 'Print the path of the config file in use'
complete -c rock -n "__fish_rock_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "edit" -d 'Open the config file in $VISUAL or $EDITOR, and keep the result only if it is valid'
