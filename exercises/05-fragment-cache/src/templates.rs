//! The HTML templates, compiled into the binary.
//!
//! `include_str!` embeds `templates/*.html` at build time, so the service finds its templates
//! wherever its binary runs. minijinja escapes every `{{ value }}` in a template whose name
//! ends in `.html`: text from the database can never become markup.

use minijinja::Environment;

pub fn environment() -> Environment<'static> {
    let mut templates = Environment::new();
    // Drop the blank lines that `{% ... %}` tags would leave in the HTML.
    templates.set_trim_blocks(true);
    templates.set_lstrip_blocks(true);
    for (name, source) in [
        ("dashboard.html", include_str!("../templates/dashboard.html")),
        ("sidebar.html", include_str!("../templates/sidebar.html")),
    ] {
        templates.add_template(name, source).expect("the embedded templates are valid");
    }
    templates
}
