//! The guards that stop a run before it writes: a side that suddenly lists empty while
//! links exist, a listing that failed, or more deletions than the configured share.

use super::error::EngineError;

/// A complete full listing returned nothing while `linked` pairs exist: more likely an
/// outage, a wrong account or an emptied address book than a person deleting everything.
pub fn empty_side(side_name: &str, listed: usize, linked: usize) -> Result<(), EngineError> {
    if linked > 0 && listed == 0 {
        return Err(EngineError::new(
            "GUARD_TRIPPED",
            format!("the {side_name} listed no contacts although {linked} are linked; nothing was written"),
            format!("Check that the {side_name} is the right one and reachable. If it really was emptied on purpose, forget this address book's links and run again."),
        ));
    }
    Ok(())
}

/// More deletions than `max_share` of the linked pairs.
pub fn delete_share(deletes: usize, linked: usize, max_share: f64) -> Result<(), EngineError> {
    if deletes == 0 {
        return Ok(());
    }
    let share = deletes as f64 / linked.max(1) as f64;
    if share > max_share {
        return Err(EngineError::new(
            "GUARD_TRIPPED",
            format!("this run would delete {deletes} of {linked} linked contacts ({:.0}%), more than the allowed {:.0}%; nothing was written", share * 100.0, max_share * 100.0),
            "Look at the preview. If these deletions are intended, raise guard.maxDeleteShare for one run.",
        ));
    }
    Ok(())
}
