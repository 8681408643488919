//! Compile-time errors of the derives and of `#[singer_sdk::main]`: each case in `ui/<theme>/`
//! must fail with exactly the `.stderr` next to it (regenerate with `TRYBUILD=overwrite` and
//! review the diff); `ui/pass/` cases must compile and run.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/schema/*.rs");
    cases.compile_fail("tests/ui/settings/*.rs");
    cases.compile_fail("tests/ui/record/*.rs");
    cases.compile_fail("tests/ui/main/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
