//! The page: the `report.html` template (minijinja, HTML auto-escaping on) filled from a
//! [`PageContext`]. Pure: context in, string out.

use super::context::PageContext;
use minijinja::{Environment, UndefinedBehavior};

const TEMPLATE: &str = include_str!("templates/report.html");
const CSS: &str = include_str!("templates/report.css");

/// Renders the page. Every string of the context is HTML-escaped except the inline SVG
/// documents (plotters escapes their text) and the bundled CSS.
pub fn render_page(context: &PageContext) -> Result<String, minijinja::Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // `.html` names get HTML auto-escaping (minijinja's default callback).
    env.add_template("report.html", TEMPLATE)?;
    let template = env.get_template("report.html")?;
    template.render(minijinja::context! {
        css => CSS,
        ..minijinja::Value::from_serialize(context)
    })
}
