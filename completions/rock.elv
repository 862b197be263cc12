
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
            cand env 'Create and use runtime envs: standalone Python and Node.js with packages'
            cand config 'Read and change the config file'
            cand serve 'Serve the executor HTTP API (RAGFlow''s sandbox executor manager) over rock''s sandboxes'
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
            cand -t 'Wall-clock limit in seconds [default: 10] [env: ROCK_TIMEOUT]'
            cand --timeout 'Wall-clock limit in seconds [default: 10] [env: ROCK_TIMEOUT]'
            cand -m 'Memory limit, e.g. 256MiB or 1G; a bare number means MiB [default: 256MiB] [env: ROCK_MEMORY]'
            cand --memory 'Memory limit, e.g. 256MiB or 1G; a bare number means MiB [default: 256MiB] [env: ROCK_MEMORY]'
            cand --output-cap 'Keep at most this much of stdout and of stderr [default: 1MiB] [env: ROCK_OUTPUT_CAP]'
            cand --stdin 'Feed this file (or - for rock''s own stdin) to the program''s stdin'
            cand --env 'Run with this runtime env''s interpreter (and packages): its id or name'
            cand -p 'The sandbox provider [default: local] [env: ROCK_PROVIDER]'
            cand --provider 'The sandbox provider [default: local] [env: ROCK_PROVIDER]'
            cand --config 'Config file to use instead of $ROCK_CONFIG or the default location'
            cand --color 'When to color rock''s own messages'
            cand --network 'Let the program use the host''s network (default: loopback only) [env: ROCK_NETWORK]'
            cand --no-network 'Loopback only, whatever the config or environment says'
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
        &'rock;env'= {
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
            cand create 'Install a runtime env: a standalone Python or Node.js (or a custom type) with packages'
            cand run 'Run a command with the env''s bin first on PATH; its exit code is rock''s'
            cand wrap 'Print the command `run` would execute (ROCK''s wrapped_cmd)'
            cand list 'List the envs'
            cand show 'Show one env: type, version, config, paths'
            cand rm 'Remove envs, with the symlinks they made'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'rock;env;create'= {
            cand --version 'python: 3.11 or 3.12; node: 22.18.0 [default: the type''s default]'
            cand --name 'A name to use instead of the id'
            cand --pip 'A package to pip install (python); repeat for more'
            cand --requirements 'A requirements file to pip install (python)'
            cand --pip-index-url 'The package index for this env''s pip [default: runtime_envs.pip_index_url]'
            cand --npm-registry 'The npm registry for this env (node) [default: runtime_envs.npm_registry]'
            cand --symlink-dir 'Make symlinks to the env''s executables in this directory'
            cand --symlink 'An executable to link [default: python, python3, pip, pip3 / node, npm, npx]'
            cand --env 'An environment variable for every install step, K=V; repeat for more'
            cand --install-timeout 'Bound on the whole install, in seconds [default: 600]'
            cand --custom-install-cmd 'A command run in the env''s work dir, with the env on PATH, after the install'
            cand --provider 'Make the env in a sandbox of this provider (e2b, rock) instead of on this machine'
            cand --config 'Config file to use instead of $ROCK_CONFIG or the default location'
            cand --color 'When to color rock''s own messages'
            cand --json 'Print the new env as JSON'
            cand -q 'Print only the program''s output and errors: no summary line'
            cand --quiet 'Print only the program''s output and errors: no summary line'
            cand -v 'Say more about what rock does (sandbox, interpreter, limits)'
            cand --verbose 'Say more about what rock does (sandbox, interpreter, limits)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'rock;env;run'= {
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
        &'rock;env;wrap'= {
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
        &'rock;env;list'= {
            cand --config 'Config file to use instead of $ROCK_CONFIG or the default location'
            cand --color 'When to color rock''s own messages'
            cand --json 'json'
            cand -q 'Print only the program''s output and errors: no summary line'
            cand --quiet 'Print only the program''s output and errors: no summary line'
            cand -v 'Say more about what rock does (sandbox, interpreter, limits)'
            cand --verbose 'Say more about what rock does (sandbox, interpreter, limits)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'rock;env;show'= {
            cand --config 'Config file to use instead of $ROCK_CONFIG or the default location'
            cand --color 'When to color rock''s own messages'
            cand --json 'json'
            cand -q 'Print only the program''s output and errors: no summary line'
            cand --quiet 'Print only the program''s output and errors: no summary line'
            cand -v 'Say more about what rock does (sandbox, interpreter, limits)'
            cand --verbose 'Say more about what rock does (sandbox, interpreter, limits)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'rock;env;rm'= {
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
        &'rock;env;help'= {
            cand create 'Install a runtime env: a standalone Python or Node.js (or a custom type) with packages'
            cand run 'Run a command with the env''s bin first on PATH; its exit code is rock''s'
            cand wrap 'Print the command `run` would execute (ROCK''s wrapped_cmd)'
            cand list 'List the envs'
            cand show 'Show one env: type, version, config, paths'
            cand rm 'Remove envs, with the symlinks they made'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'rock;env;help;create'= {
        }
        &'rock;env;help;run'= {
        }
        &'rock;env;help;wrap'= {
        }
        &'rock;env;help;list'= {
        }
        &'rock;env;help;show'= {
        }
        &'rock;env;help;rm'= {
        }
        &'rock;env;help;help'= {
        }
        &'rock;config'= {
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
            cand set 'Set a key (e.g. default.timeout) to a value, checked against the key''s type first'
            cand get 'Print a key''s value: the environment''s, else the file''s, else the default'
            cand unset 'Remove a key, or a whole section, from the file'
            cand show 'Print every key''s value and where it comes from'
            cand path 'Print the path of the config file in use'
            cand edit 'Open the config file in $VISUAL or $EDITOR, and keep the result only if it is valid'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'rock;config;set'= {
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
        &'rock;config;get'= {
            cand --config 'Config file to use instead of $ROCK_CONFIG or the default location'
            cand --color 'When to color rock''s own messages'
            cand --reveal 'Print secrets as they are'
            cand -q 'Print only the program''s output and errors: no summary line'
            cand --quiet 'Print only the program''s output and errors: no summary line'
            cand -v 'Say more about what rock does (sandbox, interpreter, limits)'
            cand --verbose 'Say more about what rock does (sandbox, interpreter, limits)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'rock;config;unset'= {
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
        &'rock;config;show'= {
            cand --config 'Config file to use instead of $ROCK_CONFIG or the default location'
            cand --color 'When to color rock''s own messages'
            cand --json 'One JSON object instead of TOML'
            cand --reveal 'Print secrets as they are'
            cand -q 'Print only the program''s output and errors: no summary line'
            cand --quiet 'Print only the program''s output and errors: no summary line'
            cand -v 'Say more about what rock does (sandbox, interpreter, limits)'
            cand --verbose 'Say more about what rock does (sandbox, interpreter, limits)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'rock;config;path'= {
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
        &'rock;config;edit'= {
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
        &'rock;config;help'= {
            cand set 'Set a key (e.g. default.timeout) to a value, checked against the key''s type first'
            cand get 'Print a key''s value: the environment''s, else the file''s, else the default'
            cand unset 'Remove a key, or a whole section, from the file'
            cand show 'Print every key''s value and where it comes from'
            cand path 'Print the path of the config file in use'
            cand edit 'Open the config file in $VISUAL or $EDITOR, and keep the result only if it is valid'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'rock;config;help;set'= {
        }
        &'rock;config;help;get'= {
        }
        &'rock;config;help;unset'= {
        }
        &'rock;config;help;show'= {
        }
        &'rock;config;help;path'= {
        }
        &'rock;config;help;edit'= {
        }
        &'rock;config;help;help'= {
        }
        &'rock;serve'= {
            cand --listen 'Address to listen on; without a token only a loopback address is allowed'
            cand --sandbox 'The provider whose sandboxes run the code: local, gvisor or docker'
            cand --pool 'Warm sandboxes to keep ready per language [default: serve.pool.python and serve.pool.nodejs in the config, 4 and 2]'
            cand --max-concurrency 'Programs that may run at once [default: the number of CPUs]'
            cand --queue 'Requests that may wait for a free slot; beyond that they are refused as busy'
            cand --queue-timeout 'How long a request may wait for a free slot before it is refused as busy'
            cand --token-file 'File holding the API token [default: $SANDBOX_EXECUTOR_MANAGER_API_TOKEN]'
            cand --rate-limit 'Runs per minute for all callers together, such as 600/min or 10/s'
            cand --max-timeout 'Largest timeout a request may ask for'
            cand --max-memory 'Largest memory a request may ask for'
            cand --config 'Config file to use instead of $ROCK_CONFIG or the default location'
            cand --color 'When to color rock''s own messages'
            cand --log-json 'Log one JSON object per line instead of text'
            cand -q 'Print only the program''s output and errors: no summary line'
            cand --quiet 'Print only the program''s output and errors: no summary line'
            cand -v 'Say more about what rock does (sandbox, interpreter, limits)'
            cand --verbose 'Say more about what rock does (sandbox, interpreter, limits)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
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
            cand env 'Create and use runtime envs: standalone Python and Node.js with packages'
            cand config 'Read and change the config file'
            cand serve 'Serve the executor HTTP API (RAGFlow''s sandbox executor manager) over rock''s sandboxes'
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
        &'rock;help;env'= {
            cand create 'Install a runtime env: a standalone Python or Node.js (or a custom type) with packages'
            cand run 'Run a command with the env''s bin first on PATH; its exit code is rock''s'
            cand wrap 'Print the command `run` would execute (ROCK''s wrapped_cmd)'
            cand list 'List the envs'
            cand show 'Show one env: type, version, config, paths'
            cand rm 'Remove envs, with the symlinks they made'
        }
        &'rock;help;env;create'= {
        }
        &'rock;help;env;run'= {
        }
        &'rock;help;env;wrap'= {
        }
        &'rock;help;env;list'= {
        }
        &'rock;help;env;show'= {
        }
        &'rock;help;env;rm'= {
        }
        &'rock;help;config'= {
            cand set 'Set a key (e.g. default.timeout) to a value, checked against the key''s type first'
            cand get 'Print a key''s value: the environment''s, else the file''s, else the default'
            cand unset 'Remove a key, or a whole section, from the file'
            cand show 'Print every key''s value and where it comes from'
            cand path 'Print the path of the config file in use'
            cand edit 'Open the config file in $VISUAL or $EDITOR, and keep the result only if it is valid'
        }
        &'rock;help;config;set'= {
        }
        &'rock;help;config;get'= {
        }
        &'rock;help;config;unset'= {
        }
        &'rock;help;config;show'= {
        }
        &'rock;help;config;path'= {
        }
        &'rock;help;config;edit'= {
        }
        &'rock;help;serve'= {
        }
        &'rock;help;completions'= {
        }
        &'rock;help;help'= {
        }
    ]
    $completions[$command]
}
