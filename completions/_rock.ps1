
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'rock' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'rock'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'rock' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run code in a sandbox, calling main(**arguments) when the code defines it')
            [CompletionResult]::new('provider', 'provider', [CompletionResultType]::ParameterValue, 'List, test and describe sandbox providers')
            [CompletionResult]::new('env', 'env', [CompletionResultType]::ParameterValue, 'Create and use runtime envs: standalone Python and Node.js with packages')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Read and change the config file')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve the executor HTTP API (RAGFlow''s sandbox executor manager) over rock''s sandboxes')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rock;exec' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Code given inline instead of a file')
            [CompletionResult]::new('--code', '--code', [CompletionResultType]::ParameterName, 'Code given inline instead of a file')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'python (python3, py) or nodejs (node, javascript, js); default: from the file''s extension')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'python (python3, py) or nodejs (node, javascript, js); default: from the file''s extension')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'An argument for main(): name=value for a string, name:=json for any JSON value')
            [CompletionResult]::new('--args', '--args', [CompletionResultType]::ParameterName, 'An argument for main(): name=value for a string, name:=json for any JSON value')
            [CompletionResult]::new('--args-json', '--args-json', [CompletionResultType]::ParameterName, 'All arguments as one JSON object, or @file.json')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Wall-clock limit in seconds [default: 10] [env: ROCK_TIMEOUT]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Wall-clock limit in seconds [default: 10] [env: ROCK_TIMEOUT]')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Memory limit, e.g. 256MiB or 1G; a bare number means MiB [default: 256MiB] [env: ROCK_MEMORY]')
            [CompletionResult]::new('--memory', '--memory', [CompletionResultType]::ParameterName, 'Memory limit, e.g. 256MiB or 1G; a bare number means MiB [default: 256MiB] [env: ROCK_MEMORY]')
            [CompletionResult]::new('--output-cap', '--output-cap', [CompletionResultType]::ParameterName, 'Keep at most this much of stdout and of stderr [default: 1MiB] [env: ROCK_OUTPUT_CAP]')
            [CompletionResult]::new('--stdin', '--stdin', [CompletionResultType]::ParameterName, 'Feed this file (or - for rock''s own stdin) to the program''s stdin')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Run with this runtime env''s interpreter (and packages): its id or name')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'The sandbox provider [default: local] [env: ROCK_PROVIDER]')
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'The sandbox provider [default: local] [env: ROCK_PROVIDER]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('--network', '--network', [CompletionResultType]::ParameterName, 'Let the program use the host''s network (default: loopback only) [env: ROCK_NETWORK]')
            [CompletionResult]::new('--no-network', '--no-network', [CompletionResultType]::ParameterName, 'Loopback only, whatever the config or environment says')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object with every field of the result instead of the program''s output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rock;provider' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show every provider and whether it can run code now')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Check a provider''s health and run a tiny program in each of its languages')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print a provider''s config schema as JSON')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rock;provider;list' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rock;provider;test' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rock;provider;schema' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rock;provider;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show every provider and whether it can run code now')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Check a provider''s health and run a tiny program in each of its languages')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print a provider''s config schema as JSON')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rock;provider;help;list' {
            break
        }
        'rock;provider;help;test' {
            break
        }
        'rock;provider;help;schema' {
            break
        }
        'rock;provider;help;help' {
            break
        }
        'rock;env' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Install a runtime env: a standalone Python or Node.js (or a custom type) with packages')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a command with the env''s bin first on PATH; its exit code is rock''s')
            [CompletionResult]::new('wrap', 'wrap', [CompletionResultType]::ParameterValue, 'Print the command `run` would execute (ROCK''s wrapped_cmd)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the envs')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one env: type, version, config, paths')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove envs, with the symlinks they made')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rock;env;create' {
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'python: 3.11 or 3.12; node: 22.18.0 [default: the type''s default]')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'A name to use instead of the id')
            [CompletionResult]::new('--pip', '--pip', [CompletionResultType]::ParameterName, 'A package to pip install (python); repeat for more')
            [CompletionResult]::new('--requirements', '--requirements', [CompletionResultType]::ParameterName, 'A requirements file to pip install (python)')
            [CompletionResult]::new('--pip-index-url', '--pip-index-url', [CompletionResultType]::ParameterName, 'The package index for this env''s pip [default: runtime_envs.pip_index_url]')
            [CompletionResult]::new('--npm-registry', '--npm-registry', [CompletionResultType]::ParameterName, 'The npm registry for this env (node) [default: runtime_envs.npm_registry]')
            [CompletionResult]::new('--symlink-dir', '--symlink-dir', [CompletionResultType]::ParameterName, 'Make symlinks to the env''s executables in this directory')
            [CompletionResult]::new('--symlink', '--symlink', [CompletionResultType]::ParameterName, 'An executable to link [default: python, python3, pip, pip3 / node, npm, npx]')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'An environment variable for every install step, K=V; repeat for more')
            [CompletionResult]::new('--install-timeout', '--install-timeout', [CompletionResultType]::ParameterName, 'Bound on the whole install, in seconds [default: 600]')
            [CompletionResult]::new('--custom-install-cmd', '--custom-install-cmd', [CompletionResultType]::ParameterName, 'A command run in the env''s work dir, with the env on PATH, after the install')
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'Make the env in a sandbox of this provider (e2b, rock) instead of on this machine')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the new env as JSON')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'rock;env;run' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rock;env;wrap' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rock;env;list' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rock;env;show' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rock;env;rm' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rock;env;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Install a runtime env: a standalone Python or Node.js (or a custom type) with packages')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a command with the env''s bin first on PATH; its exit code is rock''s')
            [CompletionResult]::new('wrap', 'wrap', [CompletionResultType]::ParameterValue, 'Print the command `run` would execute (ROCK''s wrapped_cmd)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the envs')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one env: type, version, config, paths')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove envs, with the symlinks they made')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rock;env;help;create' {
            break
        }
        'rock;env;help;run' {
            break
        }
        'rock;env;help;wrap' {
            break
        }
        'rock;env;help;list' {
            break
        }
        'rock;env;help;show' {
            break
        }
        'rock;env;help;rm' {
            break
        }
        'rock;env;help;help' {
            break
        }
        'rock;config' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set a key (e.g. default.timeout) to a value, checked against the key''s type first')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print a key''s value: the environment''s, else the file''s, else the default')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Remove a key, or a whole section, from the file')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print every key''s value and where it comes from')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the path of the config file in use')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Open the config file in $VISUAL or $EDITOR, and keep the result only if it is valid')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rock;config;set' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rock;config;get' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('--reveal', '--reveal', [CompletionResultType]::ParameterName, 'Print secrets as they are')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rock;config;unset' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rock;config;show' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON object instead of TOML')
            [CompletionResult]::new('--reveal', '--reveal', [CompletionResultType]::ParameterName, 'Print secrets as they are')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rock;config;path' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rock;config;edit' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rock;config;help' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set a key (e.g. default.timeout) to a value, checked against the key''s type first')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print a key''s value: the environment''s, else the file''s, else the default')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Remove a key, or a whole section, from the file')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print every key''s value and where it comes from')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the path of the config file in use')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Open the config file in $VISUAL or $EDITOR, and keep the result only if it is valid')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rock;config;help;set' {
            break
        }
        'rock;config;help;get' {
            break
        }
        'rock;config;help;unset' {
            break
        }
        'rock;config;help;show' {
            break
        }
        'rock;config;help;path' {
            break
        }
        'rock;config;help;edit' {
            break
        }
        'rock;config;help;help' {
            break
        }
        'rock;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on; without a token only a loopback address is allowed')
            [CompletionResult]::new('--sandbox', '--sandbox', [CompletionResultType]::ParameterName, 'The provider whose sandboxes run the code: local, gvisor or docker')
            [CompletionResult]::new('--pool', '--pool', [CompletionResultType]::ParameterName, 'Warm sandboxes to keep ready per language [default: serve.pool.python and serve.pool.nodejs in the config, 4 and 2]')
            [CompletionResult]::new('--max-concurrency', '--max-concurrency', [CompletionResultType]::ParameterName, 'Programs that may run at once [default: the number of CPUs]')
            [CompletionResult]::new('--queue', '--queue', [CompletionResultType]::ParameterName, 'Requests that may wait for a free slot; beyond that they are refused as busy')
            [CompletionResult]::new('--queue-timeout', '--queue-timeout', [CompletionResultType]::ParameterName, 'How long a request may wait for a free slot before it is refused as busy')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the API token [default: $SANDBOX_EXECUTOR_MANAGER_API_TOKEN]')
            [CompletionResult]::new('--rate-limit', '--rate-limit', [CompletionResultType]::ParameterName, 'Runs per minute for all callers together, such as 600/min or 10/s')
            [CompletionResult]::new('--max-timeout', '--max-timeout', [CompletionResultType]::ParameterName, 'Largest timeout a request may ask for')
            [CompletionResult]::new('--max-memory', '--max-memory', [CompletionResultType]::ParameterName, 'Largest memory a request may ask for')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('--log-json', '--log-json', [CompletionResultType]::ParameterName, 'Log one JSON object per line instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rock;completions' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of $ROCK_CONFIG or the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color rock''s own messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the program''s output and errors: no summary line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what rock does (sandbox, interpreter, limits)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rock;help' {
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run code in a sandbox, calling main(**arguments) when the code defines it')
            [CompletionResult]::new('provider', 'provider', [CompletionResultType]::ParameterValue, 'List, test and describe sandbox providers')
            [CompletionResult]::new('env', 'env', [CompletionResultType]::ParameterValue, 'Create and use runtime envs: standalone Python and Node.js with packages')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Read and change the config file')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve the executor HTTP API (RAGFlow''s sandbox executor manager) over rock''s sandboxes')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rock;help;exec' {
            break
        }
        'rock;help;provider' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show every provider and whether it can run code now')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Check a provider''s health and run a tiny program in each of its languages')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print a provider''s config schema as JSON')
            break
        }
        'rock;help;provider;list' {
            break
        }
        'rock;help;provider;test' {
            break
        }
        'rock;help;provider;schema' {
            break
        }
        'rock;help;env' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Install a runtime env: a standalone Python or Node.js (or a custom type) with packages')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a command with the env''s bin first on PATH; its exit code is rock''s')
            [CompletionResult]::new('wrap', 'wrap', [CompletionResultType]::ParameterValue, 'Print the command `run` would execute (ROCK''s wrapped_cmd)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the envs')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one env: type, version, config, paths')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove envs, with the symlinks they made')
            break
        }
        'rock;help;env;create' {
            break
        }
        'rock;help;env;run' {
            break
        }
        'rock;help;env;wrap' {
            break
        }
        'rock;help;env;list' {
            break
        }
        'rock;help;env;show' {
            break
        }
        'rock;help;env;rm' {
            break
        }
        'rock;help;config' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set a key (e.g. default.timeout) to a value, checked against the key''s type first')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print a key''s value: the environment''s, else the file''s, else the default')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Remove a key, or a whole section, from the file')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print every key''s value and where it comes from')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the path of the config file in use')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Open the config file in $VISUAL or $EDITOR, and keep the result only if it is valid')
            break
        }
        'rock;help;config;set' {
            break
        }
        'rock;help;config;get' {
            break
        }
        'rock;help;config;unset' {
            break
        }
        'rock;help;config;show' {
            break
        }
        'rock;help;config;path' {
            break
        }
        'rock;help;config;edit' {
            break
        }
        'rock;help;serve' {
            break
        }
        'rock;help;completions' {
            break
        }
        'rock;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
