//! `rock exec` as a user sees it: output, the result line, exit codes, --json.

mod support;

use serde_json::json;
use support::{stderr_of, stdout_of, Rock};

fn example(name: &str) -> String {
    format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn hello_examples_print_their_result() {
    let rock = Rock::new();
    for file in ["hello.py", "hello.js"] {
        let output = rock
            .cmd()
            .args(["exec", "--args", "name=World"])
            .arg(example(file))
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{file}: {}",
            stderr_of(&output)
        );
        assert_eq!(
            stdout_of(&output),
            "{\"message\":\"Hello World!\"}\n",
            "{file}"
        );
        let summary = stderr_of(&output);
        assert!(
            summary.starts_with("rock: success, exit 0 in "),
            "{summary}"
        );
        assert!(summary.trim_end().ends_with("[local]"), "{summary}");
    }
}

#[test]
fn plain_script_runs_top_to_bottom() {
    let rock = Rock::new();
    let output = rock
        .cmd()
        .args(["exec", "-q"])
        .arg(example("plain.py"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout_of(&output).contains("says hello from the sandbox"));
    assert!(
        stderr_of(&output).starts_with("running as uid 1000"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn quiet_hides_the_summary_only() {
    let rock = Rock::new();
    let output = rock
        .cmd()
        .args([
            "exec",
            "-q",
            "-l",
            "py",
            "-c",
            "import sys; print('out'); print('err', file=sys.stderr)",
        ])
        .output()
        .unwrap();
    assert_eq!(stdout_of(&output), "out\n");
    assert_eq!(stderr_of(&output), "err\n");
}

#[test]
fn arguments_reach_main_with_their_types() {
    let rock = Rock::new();
    let args_file = rock.file("args.json", r#"{"items": [1, 2, 3], "name": "file"}"#);
    for (lang, code) in [
        ("python", "def main(name, count, flag, items):\n    return {'name': name, 'count': count, 'flag': flag, 'sum': sum(items)}\n"),
        ("nodejs", "function main(a) { return { name: a.name, count: a.count, flag: a.flag, sum: a.items.reduce((x, y) => x + y, 0) }; }\n"),
    ] {
        let (result, exit) = rock.exec_json(
            lang,
            code,
            &["--args-json", &format!("@{}", args_file.display()), "--args", "name=World", "--args", "count:=3", "--args", "flag:=true"],
        );
        assert_eq!(exit, 0, "{lang}: {result}");
        assert_eq!(result["result"]["value"], json!({"name": "World", "count": 3, "flag": true, "sum": 6}), "{lang}");
    }
}

#[test]
fn async_main_and_promises_are_awaited() {
    let rock = Rock::new();
    for (lang, code) in [
        ("python", "import asyncio\nasync def main(n):\n    await asyncio.sleep(0.01)\n    return n * 2\n"),
        ("nodejs", "async function main({ n }) { await new Promise((r) => setTimeout(r, 10)); return n * 2; }\n"),
    ] {
        let (result, exit) = rock.exec_json(lang, code, &["--args", "n:=21"]);
        assert_eq!(exit, 0, "{lang}: {result}");
        assert_eq!(result["result"]["value"], json!(42), "{lang}");
    }
}

#[test]
fn main_without_arguments_is_still_called() {
    let rock = Rock::new();
    let (result, exit) = rock.exec_json("python", "def main():\n    return 'called'\n", &[]);
    assert_eq!((exit, &result["result"]["value"]), (0, &json!("called")));
    let (result, exit) = rock.exec_json("nodejs", "const main = () => 'called';\n", &[]);
    assert_eq!((exit, &result["result"]["value"]), (0, &json!("called")));
}

#[test]
fn json_output_carries_every_field() {
    let rock = Rock::new();
    let (result, exit) = rock.exec_json(
        "python",
        "import sys\ndef main(x):\n    print('to stdout')\n    print('to stderr', file=sys.stderr)\n    return {'x': x}\n",
        &["--args", "x=1"],
    );
    assert_eq!(exit, 0);
    assert_eq!(result["stdout"], "to stdout\n");
    assert_eq!(result["stderr"], "to stderr\n");
    assert_eq!(result["exit_code"], 0);
    assert!(result["execution_time"].as_f64().unwrap() > 0.0);
    assert_eq!(result["status"], "success");
    assert_eq!(
        result["result"],
        json!({"present": true, "value": {"x": "1"}, "type": "json"})
    );
    assert_eq!(
        result["truncated"],
        json!({"stdout": false, "stderr": false})
    );
    let metadata = result["metadata"].as_object().unwrap();
    for key in [
        "provider",
        "sandbox_id",
        "interpreter",
        "interpreter_version",
        "memory_limit",
        "cpu_time",
        "peak_memory_bytes",
    ] {
        assert!(
            metadata.contains_key(key),
            "metadata lacks {key}: {metadata:?}"
        );
    }
    assert_eq!(metadata["provider"], "local");
    assert_eq!(metadata["sandbox_id"].as_str().unwrap().len(), 8);
}

#[test]
fn exit_codes_are_the_programs_own() {
    let rock = Rock::new();
    for (lang, code) in [
        ("python", "import sys; sys.exit(7)"),
        ("nodejs", "process.exit(7)"),
    ] {
        let (result, exit) = rock.exec_json(lang, code, &[]);
        assert_eq!(exit, 7, "{lang}");
        assert_eq!(result["status"], "program_error");
    }
    let (result, exit) = rock.exec_json(
        "python",
        "import os, signal; os.kill(os.getpid(), signal.SIGTERM)",
        &[],
    );
    assert_eq!(exit, 128 + 15, "{result}");
    assert_eq!(result["status"], "runtime_error");
    assert_eq!(result["metadata"]["signal"], 15);
}

#[test]
fn an_exception_in_main_is_a_program_error_with_a_clean_traceback() {
    let rock = Rock::new();
    let (result, exit) =
        rock.exec_json("python", "def main():\n    raise ValueError('boom')\n", &[]);
    assert_eq!(exit, 1);
    assert_eq!(result["status"], "program_error");
    let stderr = result["stderr"].as_str().unwrap();
    assert!(stderr.contains("ValueError: boom"), "{stderr}");
    assert!(stderr.contains("/work/main.py"), "{stderr}");
    assert!(!stderr.contains("harness"), "{stderr}");
    let (result, exit) = rock.exec_json(
        "nodejs",
        "function main() { throw new Error('boom'); }",
        &[],
    );
    assert_eq!(exit, 1);
    let stderr = result["stderr"].as_str().unwrap();
    assert!(
        stderr.contains("Error: boom") && !stderr.contains("harness"),
        "{stderr}"
    );
}

#[test]
fn a_value_json_cannot_carry_is_reported() {
    let rock = Rock::new();
    let (result, exit) = rock.exec_json("python", "def main():\n    return {1, 2}\n", &[]);
    assert_eq!(exit, 1);
    assert_eq!(result["result"], json!(null));
    assert!(result["stderr"]
        .as_str()
        .unwrap()
        .contains("not JSON-serializable"));
}

#[test]
fn code_comes_from_stdin() {
    let rock = Rock::new();
    let output = rock
        .cmd()
        .args(["exec", "-q", "-l", "node", "-"])
        .write_stdin("console.log(6 * 7)")
        .output()
        .unwrap();
    assert_eq!(stdout_of(&output), "42\n");
}

#[test]
fn mjs_modules_export_main() {
    let rock = Rock::new();
    let file = rock.file(
        "mod.mjs",
        "export async function main({ a }) { return a + 1; }\n",
    );
    let output = rock
        .cmd()
        .args(["exec", "-q", "--args", "a:=1"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(stdout_of(&output), "2\n", "{}", stderr_of(&output));
}

#[test]
fn an_if_main_guard_does_not_call_main_twice() {
    let rock = Rock::new();
    let code = "calls = []\ndef main(n):\n    calls.append(n)\n    return len(calls)\nif __name__ == '__main__':\n    main(0)\n";
    let (result, _) = rock.exec_json("python", code, &["--args", "n:=1"]);
    assert_eq!(result["result"]["value"], json!(1), "{result}");
}

#[test]
fn a_program_writing_the_result_fd_cannot_fake_rocks_own_errors() {
    let rock = Rock::new();
    let (result, exit) = rock.exec_json(
        "python",
        "import os\nos.write(3, b'{\"kind\": \"no_main\"}')\nprint('ran')\n",
        &[],
    );
    assert_eq!(exit, 0, "{result}");
    assert_eq!(result["stdout"], "ran\n");
}
