//! Markup a page must show as text, drawn per run from the seed by a small grammar: tags,
//! attributes that break out of their quotes, quotes, entities that must stay literal, and
//! `</script>`. No fixed list a service could special-case; a failure names the payload and
//! the seed that draws it again.

use workbook::seed::SplitMix64;

/// Tags that run code or load something, opened with attributes.
const TAGS: &[&str] = &["script", "img", "svg", "iframe", "a", "b", "div", "style", "details"];
const ATTRIBUTES: &[&str] = &["src", "onerror", "onload", "href", "style", "title", "ontoggle"];
const ATTRIBUTE_VALUES: &[&str] = &["x", "alert(1)", "javascript:alert(2)", "#", "1;url=/"];
const QUOTES: &[&str] = &["\"", "'", "", "`"];
/// What ends the context a value sits in: an attribute, a script, a comment, a text area.
const BREAK_OUTS: &[&str] = &["\">", "'>", "</script>", "-->", "</textarea>", "</title>"];
/// Entities a name may hold literally: a page must show them as typed, not decoded.
const ENTITIES: &[&str] = &["&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&#x3C;", "&nbsp;"];
const WORDS: &[&str] = &["Tom", "Jerry's", "R&D", "a < b", "\"best\"", "5 > 3", "Q&A"];

/// A payload: one tag, one entity and one word with a quote or an ampersand, in a drawn order,
/// among up to three more pieces of any kind; so every payload needs all of escaping
/// (`<`, `&`, quotes), each time in another shape.
pub fn payload(rng: &mut SplitMix64) -> String {
    let mut pieces =
        vec![tag(rng), (*rng.pick(ENTITIES)).to_owned(), (*rng.pick(WORDS)).to_owned()];
    for _ in 0..rng.between(0, 3) {
        pieces.push(match rng.between(0, 3) {
            0 => tag(rng),
            1 => (*rng.pick(BREAK_OUTS)).to_owned(),
            2 => (*rng.pick(ENTITIES)).to_owned(),
            _ => (*rng.pick(WORDS)).to_owned(),
        });
    }
    rng.shuffle(&mut pieces);
    pieces.join(if rng.between(0, 1) == 0 { "" } else { " " })
}

/// `<img src='x' onerror=alert(1)>`, `</script><svg onload="alert(1)">` and the like.
fn tag(rng: &mut SplitMix64) -> String {
    let name = rng.pick(TAGS);
    let mut tag = format!("<{name}");
    for _ in 0..rng.between(0, 2) {
        let quote = rng.pick(QUOTES);
        tag.push_str(&format!(
            " {}={quote}{}{quote}",
            rng.pick(ATTRIBUTES),
            rng.pick(ATTRIBUTE_VALUES)
        ));
    }
    tag.push('>');
    if rng.between(0, 1) == 0 {
        tag.push_str(&format!("alert({})</{name}>", rng.between(1, 99)));
    }
    tag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_payload_needs_all_of_escaping() {
        let mut rng = SplitMix64::new(7);
        for _ in 0..500 {
            let payload = payload(&mut rng);
            assert!(payload.contains('<') && payload.contains('&'), "{payload}");
            assert!(payload.len() <= 200, "{payload}");
        }
    }

    #[test]
    fn a_seed_draws_the_same_payloads_and_another_seed_others() {
        let draw = |seed| {
            let mut rng = SplitMix64::new(seed);
            (0..3).map(|_| payload(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
    }
}
