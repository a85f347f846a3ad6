//! The build slots of a batch's running gradings: each grading takes one for its whole run and
//! gives it back at its end, so that two gradings of the batch never build in one folder, and
//! never wait for each other's builds (see [`Slot`]).

use std::sync::Mutex;

use crate::run::compile::Slot;

/// The slots not taken.
pub struct SlotPool(Mutex<Vec<Slot>>);

impl SlotPool {
    /// A pool of `slots`: one for each of the gradings that run at once.
    pub fn new(slots: Vec<Slot>) -> Self {
        Self(Mutex::new(slots))
    }

    /// A free slot, held until the returned guard is dropped; `None` when all are taken.
    pub fn take(&self) -> Option<TakenSlot<'_>> {
        let slot = self.free().pop()?;
        Some(TakenSlot { pool: self, slot })
    }

    fn free(&self) -> std::sync::MutexGuard<'_, Vec<Slot>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A slot taken from a [`SlotPool`]: back in the pool when dropped.
pub struct TakenSlot<'a> {
    pool: &'a SlotPool,
    pub slot: Slot,
}

impl Drop for TakenSlot<'_> {
    fn drop(&mut self) {
        self.pool.free().push(self.slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_held_by_one_grading_until_it_ends() {
        let pool = SlotPool::new(Slot::first(2));
        let first = pool.take().unwrap();
        let second = pool.take().unwrap();
        assert_ne!(first.slot, second.slot);
        assert!(pool.take().is_none(), "every slot is taken");
        let freed = first.slot;
        drop(first);
        assert_eq!(pool.take().unwrap().slot, freed);
    }
}
