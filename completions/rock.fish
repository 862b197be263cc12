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
complete -c rock -n "__fish_rock_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c rock -n "__fish_rock_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rock -n "__fish_rock_using_subcommand exec" -s c -l code -d 'Code given inline instead of a file' -r
complete -c rock -n "__fish_rock_using_subcommand exec" -s l -l lang -d 'python (python3, py) or nodejs (node, javascript, js); default: from the file\'s extension' -r
complete -c rock -n "__fish_rock_using_subcommand exec" -s a -l args -d 'An argument for main(): name=value for a string, name:=json for any JSON value' -r
complete -c rock -n "__fish_rock_using_subcommand exec" -l args-json -d 'All arguments as one JSON object, or @file.json' -r
complete -c rock -n "__fish_rock_using_subcommand exec" -s t -l timeout -d 'Wall-clock limit in seconds [default: 10]' -r
complete -c rock -n "__fish_rock_using_subcommand exec" -s m -l memory -d 'Memory limit, e.g. 256MiB or 1G; a bare number means MiB [default: 256MiB]' -r
complete -c rock -n "__fish_rock_using_subcommand exec" -l output-cap -d 'Keep at most this much of stdout and of stderr [default: 1MiB]' -r
complete -c rock -n "__fish_rock_using_subcommand exec" -l stdin -d 'Feed this file (or - for rock\'s own stdin) to the program\'s stdin' -r
complete -c rock -n "__fish_rock_using_subcommand exec" -s p -l provider -d 'The sandbox provider [default: local]' -r
complete -c rock -n "__fish_rock_using_subcommand exec" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand exec" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand exec" -l network -d 'Let the program use the host\'s network (default: loopback only)'
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
complete -c rock -n "__fish_rock_using_subcommand completions" -l config -d 'Config file to use instead of $ROCK_CONFIG or the default location' -r -F
complete -c rock -n "__fish_rock_using_subcommand completions" -l color -d 'When to color rock\'s own messages' -r -f -a "auto\t''
always\t''
never\t''"
complete -c rock -n "__fish_rock_using_subcommand completions" -s q -l quiet -d 'Print only the program\'s output and errors: no summary line'
complete -c rock -n "__fish_rock_using_subcommand completions" -s v -l verbose -d 'Say more about what rock does (sandbox, interpreter, limits)'
complete -c rock -n "__fish_rock_using_subcommand completions" -s h -l help -d 'Print help'
complete -c rock -n "__fish_rock_using_subcommand completions" -s V -l version -d 'Print version'
complete -c rock -n "__fish_rock_using_subcommand help; and not __fish_seen_subcommand_from exec provider completions help" -f -a "exec" -d 'Run code in a sandbox, calling main(**arguments) when the code defines it'
complete -c rock -n "__fish_rock_using_subcommand help; and not __fish_seen_subcommand_from exec provider completions help" -f -a "provider" -d 'List, test and describe sandbox providers'
complete -c rock -n "__fish_rock_using_subcommand help; and not __fish_seen_subcommand_from exec provider completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c rock -n "__fish_rock_using_subcommand help; and not __fish_seen_subcommand_from exec provider completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rock -n "__fish_rock_using_subcommand help; and __fish_seen_subcommand_from provider" -f -a "list" -d 'Show every provider and whether it can run code now'
complete -c rock -n "__fish_rock_using_subcommand help; and __fish_seen_subcommand_from provider" -f -a "test" -d 'Check a provider\'s health and run a tiny program in each of its languages'
complete -c rock -n "__fish_rock_using_subcommand help; and __fish_seen_subcommand_from provider" -f -a "schema" -d 'Print a provider\'s config schema as JSON'
