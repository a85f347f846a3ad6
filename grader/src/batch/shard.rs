//! Spreading a class over machines: which students a shard grades, and which shard this is
//! when a job scheduler says so (Slurm job arrays, Kubernetes Indexed Jobs).

use anyhow::{Context, Result, bail};

/// Share `index` of `count` (0-based) of a class sorted by student: every `count`-th student,
/// so shards differ by one student at most, and every machine picks the same.
pub fn pick<T>(class: Vec<T>, index: usize, count: usize) -> Vec<T> {
    class.into_iter().enumerate().filter(|(at, _)| at % count == index).map(|(_, s)| s).collect()
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
        let shards: Vec<Vec<usize>> = (0..3).map(|i| pick(class.clone(), i, 3)).collect();
        assert!(shards.iter().all(|shard| shard.len() == 4), "{shards:?}");
        let mut all: Vec<usize> = shards.concat();
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
