//! Rebuilds when a template changes: the templates are embedded with `include_dir!`.

fn main() {
    for template in ["tap-template", "target-template", "mapper-template"] {
        println!("cargo:rerun-if-changed=../{template}");
    }
}
