//! Counting in words for messages: "1 query", "3 queries", never "1 times".

/// `count` and `noun`, in the plural unless it is one: `counted(3, "query")` is "3 queries".
pub fn counted(count: impl Into<u64>, noun: &str) -> String {
    let count = count.into();
    if count == 1 { format!("1 {noun}") } else { format!("{count} {}", plural(noun)) }
}

/// The plural of the English nouns the grader counts: "query" → "queries", "key" → "keys".
fn plural(noun: &str) -> String {
    match noun.strip_suffix('y') {
        Some(stem) if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) => format!("{stem}ies"),
        _ => format!("{noun}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_everything_else_plural() {
        assert_eq!(counted(1u64, "time"), "1 time");
        assert_eq!(counted(0u64, "time"), "0 times");
        assert_eq!(counted(3u64, "query"), "3 queries");
        assert_eq!(counted(2u64, "key"), "2 keys");
        assert_eq!(counted(2u32, "warning"), "2 warnings");
        assert_eq!(counted(1u32, "entry"), "1 entry");
    }
}
