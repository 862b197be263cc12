
use builtin;
use str;

set edit:completion:arg-completer[rock] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'rock'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'rock'= {
            cand --config 'Config file to use instead of $ROCK_CONFIG or the default location'
            cand --color 'When to color rock''s own messages'
            cand -q 'Print only the program''s output and errors: no summary line'
            cand --quiet 'Print only the program''s output and errors: no summary line'
            cand -v 'Say more about what rock does (sandbox, interpreter, limits)'
            cand --verbose 'Say more about what rock does (sandbox, interpreter, limits)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand exec 'Run code in a sandbox, calling main(**arguments) when the code defines it'
            cand provider 'List, test and describe sandbox providers'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'rock;exec'= {
            cand -c 'Code given inline instead of a file'
            cand --code 'Code given inline instead of a file'
            cand -l 'python (python3, py) or nodejs (node, javascript, js); default: from the file''s extension'
            cand --lang 'python (python3, py) or nodejs (node, javascript, js); default: from the file''s extension'
            cand -a 'An argument for main(): name=value for a string, name:=json for any JSON value'
            cand --args 'An argument for main(): name=value for a string, name:=json for any JSON value'
            cand --args-json 'All arguments as one JSON object, or @file.json'
            cand -t 'Wall-clock limit in seconds [default: 10]'
            cand --timeout 'Wall-clock limit in seconds [default: 10]'
            cand -m 'Memory limit, e.g. 256MiB or 1G; a bare number means MiB [default: 256MiB]'
            cand --memory 'Memory limit, e.g. 256MiB or 1G; a bare number means MiB [default: 256MiB]'
            cand --output-cap 'Keep at most this much of stdout and of stderr [default: 1MiB]'
            cand --stdin 'Feed this file (or - for rock''s own stdin) to the program''s stdin'
            cand -p 'The sandbox provider [default: local]'
            cand --provider 'The sandbox provider [default: local]'
            cand --config 'Config file to use instead of $ROCK_CONFIG or the default location'
            cand --color 'When to color rock''s own messages'
            cand --network 'Let the program use the host''s network (default: loopback only)'
            cand --json 'Print one JSON object with every field of the result instead of the program''s output'
            cand -q 'Print only the program''s output and errors: no summary line'
            cand --quiet 'Print only the program''s output and errors: no summary line'
            cand -v 'Say more about what rock does (sandbox, interpreter, limits)'
            cand --verbose 'Say more about what rock does (sandbox, interpreter, limits)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'rock;provider'= {
            cand --config 'Config file to use instead of $ROCK_CONFIG or the default location'
            cand --color 'When to color rock''s own messages'
            cand -q 'Print only the program''s output and errors: no summary line'
            cand --quiet 'Print only the program''s output and errors: no summary line'
            cand -v 'Say more about what rock does (sandbox, interpreter, limits)'
            cand --verbose 'Say more about what rock does (sandbox, interpreter, limits)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'Show every provider and whether it can run code now'
            cand test 'Check a provider''s health and run a tiny program in each of its languages'
            cand schema 'Print a provider''s config schema as JSON'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'rock;provider;list'= {
            cand --config 'Config file to use instead of $ROCK_CONFIG or the default location'
            cand --color 'When to color rock''s own messages'
            cand -q 'Print only the program''s output and errors: no summary line'
            cand --quiet 'Print only the program''s output and errors: no summary line'
            cand -v 'Say more about what rock does (sandbox, interpreter, limits)'
            cand --verbose 'Say more about what rock does (sandbox, interpreter, limits)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'rock;provider;test'= {
            cand --config 'Config file to use instead of $ROCK_CONFIG or the default location'
            cand --color 'When to color rock''s own messages'
            cand -q 'Print only the program''s output and errors: no summary line'
            cand --quiet 'Print only the program''s output and errors: no summary line'
            cand -v 'Say more about what rock does (sandbox, interpreter, limits)'
            cand --verbose 'Say more about what rock does (sandbox, interpreter, limits)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'rock;provider;schema'= {
            cand --config 'Config file to use instead of $ROCK_CONFIG or the default location'
            cand --color 'When to color rock''s own messages'
            cand -q 'Print only the program''s output and errors: no summary line'
            cand --quiet 'Print only the program''s output and errors: no summary line'
            cand -v 'Say more about what rock does (sandbox, interpreter, limits)'
            cand --verbose 'Say more about what rock does (sandbox, interpreter, limits)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'rock;provider;help'= {
            cand list 'Show every provider and whether it can run code now'
            cand test 'Check a provider''s health and run a tiny program in each of its languages'
            cand schema 'Print a provider''s config schema as JSON'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'rock;provider;help;list'= {
        }
        &'rock;provider;help;test'= {
        }
        &'rock;provider;help;schema'= {
        }
        &'rock;provider;help;help'= {
        }
        &'rock;completions'= {
            cand --config 'Config file to use instead of $ROCK_CONFIG or the default location'
            cand --color 'When to color rock''s own messages'
            cand -q 'Print only the program''s output and errors: no summary line'
            cand --quiet 'Print only the program''s output and errors: no summary line'
            cand -v 'Say more about what rock does (sandbox, interpreter, limits)'
            cand --verbose 'Say more about what rock does (sandbox, interpreter, limits)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'rock;help'= {
            cand exec 'Run code in a sandbox, calling main(**arguments) when the code defines it'
            cand provider 'List, test and describe sandbox providers'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'rock;help;exec'= {
        }
        &'rock;help;provider'= {
            cand list 'Show every provider and whether it can run code now'
            cand test 'Check a provider''s health and run a tiny program in each of its languages'
            cand schema 'Print a provider''s config schema as JSON'
        }
        &'rock;help;provider;list'= {
        }
        &'rock;help;provider;test'= {
        }
        &'rock;help;provider;schema'= {
        }
        &'rock;help;completions'= {
        }
        &'rock;help;help'= {
        }
    ]
    $completions[$command]
}
