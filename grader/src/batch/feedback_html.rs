//! `feedback.html`: a student's Markdown feedback as a page a browser shows (the report links
//! to it). Student-written text in the Markdown is already in code blocks or escaped; raw HTML
//! is still shown as text, never passed through, so nothing in it can run on the page. Links
//! and images are never rendered either (an image's words stay): the feedback has none of its
//! own, so any would be a submission's (a `javascript:` link, a tracking image).

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

use super::html::escape;

pub fn render(title: &str, markdown: &str) -> String {
    let events =
        Parser::new_ext(markdown, Options::ENABLE_TABLES).filter_map(|event| match event {
            Event::Html(text) | Event::InlineHtml(text) => Some(Event::Text(text)),
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => None,
            Event::End(TagEnd::Link | TagEnd::Image) => None,
            event => Some(event),
        });
    let mut body = String::new();
    html::push_html(&mut body, events);
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>{STYLE}</style></head><body>{body}</body></html>\n",
        escape(title)
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;color:#222}\
table{border-collapse:collapse}th,td{text-align:left;padding:.2rem .6rem;border-bottom:1px solid #ddd}\
pre{background:#f5f5f5;padding:.6rem;overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere}\
code{overflow-wrap:anywhere}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html_and_raw_html_stays_text() {
        let page = render(
            "Feedback <x>",
            "# Hi\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\n<script>alert(1)</script>\n\n\
             inline <img src=x onerror=alert(1)>\n\n```text\n<b>code</b>\n```\n",
        );
        assert!(page.contains("<h1>Hi</h1>") && page.contains("<table>"), "{page}");
        assert!(!page.contains("<script>") && !page.contains("<img"), "{page}");
        assert!(page.contains("&lt;script&gt;") && page.contains("&lt;b&gt;code"), "{page}");
        assert!(page.contains("<title>Feedback &lt;x&gt;</title>"), "{page}");
    }

    #[test]
    fn no_link_or_image_is_rendered_whatever_the_markdown_says() {
        let page = render(
            "x",
            "*Note:* [src/click.rs](javascript:alert(1)) and ![beacon](https://tracker.example/p.png) \
             and <https://tracker.example/auto>\n",
        );
        assert!(!page.contains("<a") && !page.contains("<img"), "{page}");
        assert!(!page.contains("javascript:") && !page.contains("p.png"), "{page}");
        assert!(page.contains("src/click.rs") && page.contains("beacon"), "{page}");
    }
}
