//! Spreading a class over machines: which students a shard grades, and which shard this is
//! when a job scheduler says so (Slurm job arrays, Kubernetes Indexed Jobs).

use anyhow::{Context, Result, bail};

/// Share `index` of `count` (0-based) of a class sorted by student, balanced by the work each
/// submission is expected to cost (`work`: an unreadable one costs little, a full workbook
/// much): the heaviest first, each to the shard with the least work so far (the lowest
/// index on a tie). Every machine computes the same split from the same class folder; each
/// shard keeps the class's order.
pub fn pick<T>(class: Vec<T>, index: usize, count: usize, work: impl Fn(&T) -> usize) -> Vec<T> {
    let weights: Vec<usize> = class.iter().map(&work).collect();
    let mut heaviest_first: Vec<usize> = (0..class.len()).collect();
    heaviest_first.sort_by_key(|&at| (std::cmp::Reverse(weights[at]), at));
    let mut load = vec![0usize; count];
    let mut shard_of = vec![0usize; class.len()];
    for at in heaviest_first {
        let lightest = (0..count).min_by_key(|&shard| (load[shard], shard)).unwrap_or(0);
        load[lightest] += weights[at];
        shard_of[at] = lightest;
    }
    class.into_iter().enumerate().filter(|(at, _)| shard_of[*at] == index).map(|(_, s)| s).collect()
}

/// The shard a job scheduler assigned, from its variables (`var` reads one):
/// - Slurm job arrays: `SLURM_ARRAY_TASK_ID` counted from `SLURM_ARRAY_TASK_MIN`, of
///   `SLURM_ARRAY_TASK_COUNT`;
/// - Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX` (0-based), of `GRADER_SHARD_COUNT` (the
///   Job's `completions`, which Kubernetes does not pass on).
///
/// (GitHub Actions and anything else set `GRADER_SHARD=I/N`, read like `--shard`.)
pub fn from_scheduler(var: impl Fn(&str) -> Option<String>) -> Result<Option<(usize, usize)>> {
    let number = |name: &str| -> Result<Option<usize>> {
        var(name)
            .map(|text| {
                text.trim()
                    .parse::<usize>()
                    .with_context(|| format!("{name}={text:?} is not a number"))
            })
            .transpose()
    };
    let (index, count, source) = if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
        let first = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let count = number("SLURM_ARRAY_TASK_COUNT")?
            .context("SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT")?;
        (
            id.checked_sub(first).context("SLURM_ARRAY_TASK_ID is below SLURM_ARRAY_TASK_MIN")?,
            count,
            "Slurm",
        )
    } else if let Some(index) = number("JOB_COMPLETION_INDEX")? {
        let count = number("GRADER_SHARD_COUNT")?.context(
            "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job): set GRADER_SHARD_COUNT to \
             the Job's completions too",
        )?;
        (index, count, "Kubernetes")
    } else {
        return Ok(None);
    };
    if index >= count {
        bail!("{source} says shard {} of {count}: there is no such shard", index + 1);
    }
    Ok(Some((index, count)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn shards_are_balanced_and_cover_the_class() {
        let class: Vec<usize> = (0..12).collect();
        let shards: Vec<Vec<usize>> = (0..3).map(|i| pick(class.clone(), i, 3, |_| 1)).collect();
        assert!(shards.iter().all(|shard| shard.len() == 4), "{shards:?}");
        let mut all: Vec<usize> = shards.concat();
        all.sort();
        assert_eq!(all, class);
    }

    #[test]
    fn shards_share_the_work_not_the_count() {
        // The class: 13 gradable workbooks and 6 unreadable files, in name order.
        // (place in the class, work): uppercase letters are workbooks, lowercase unreadable.
        let class: Vec<(usize, usize)> = "AbCDeFGhIJkLMNoPQrS"
            .chars()
            .map(|c| if c.is_uppercase() { 7 } else { 1 })
            .enumerate()
            .collect();
        let shards: Vec<Vec<(usize, usize)>> =
            (0..2).map(|i| pick(class.clone(), i, 2, |(_, work)| *work)).collect();
        let work = |shard: &[(usize, usize)]| shard.iter().map(|(_, w)| w).sum::<usize>();
        let (first, second) = (work(&shards[0]), work(&shards[1]));
        assert!(first.abs_diff(second) <= 7, "{first} against {second}: {shards:?}");
        let gradable = |shard: &[(usize, usize)]| shard.iter().filter(|(_, w)| *w > 1).count();
        assert!(gradable(&shards[0]).abs_diff(gradable(&shards[1])) <= 1, "{shards:?}");
        // Each shard keeps the class's order, and together they are the class.
        assert!(shards.iter().all(|shard| shard.windows(2).all(|w| w[0].0 < w[1].0)));
        let mut all = shards.concat();
        all.sort();
        assert_eq!(all, class);
    }

    #[test]
    fn schedulers_name_the_shard() {
        let slurm = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert_eq!(from_scheduler(vars(&slurm)).unwrap(), Some((2, 4)));
        let kubernetes = [("JOB_COMPLETION_INDEX", "0"), ("GRADER_SHARD_COUNT", "2")];
        assert_eq!(from_scheduler(vars(&kubernetes)).unwrap(), Some((0, 2)));
        assert_eq!(from_scheduler(vars(&[])).unwrap(), None);
        let no_count = from_scheduler(vars(&[("JOB_COMPLETION_INDEX", "1")])).unwrap_err();
        assert!(no_count.to_string().contains("GRADER_SHARD_COUNT"), "{no_count}");
        let beyond = [("JOB_COMPLETION_INDEX", "2"), ("GRADER_SHARD_COUNT", "2")];
        assert!(from_scheduler(vars(&beyond)).is_err());
    }
}
