//! Whether an external tool is installed, for the tests that need one.

use std::process::Command;

/// True when `tool` (a Debian package of the same name) can be started. When it cannot: under
/// `CI=true` this panics — there a test that needs the tool must fail, not pass — and elsewhere
/// it prints `SKIPPED` and returns false, so the test returns early.
pub fn present_for_test(tool: &str) -> bool {
    if Command::new(tool).arg("-V").output().is_ok() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{tool} is not installed but CI=true: install the Debian package `{tool}`"
    );
    println!("SKIPPED: {tool} not installed");
    false
}
