//! Drop-rate alerts: which of the changes engine's jumps ([`crate::aggregate::Jump`]) the
//! status line tells. Each pair or reason is told once per episode: an episode lasts while it
//! keeps jumping, and [`ALERT_SECS`] after (so a rate wavering around the threshold, or a
//! recount after a new filter, does not tell it again). `!` takes the alert to jump to it, `x`
//! dismisses it.

use rustc_hash::FxHashMap;

use crate::aggregate::{ALERT_SECS, Jump, JumpKey};

#[derive(Debug, Default)]
pub struct Alerts {
    /// Keys in an episode, with the last second they jumped.
    episodes: FxHashMap<JumpKey, i64>,
    /// The alert the status line shows.
    pub shown: Option<Jump>,
}

impl Alerts {
    /// The jumps as of `now_secs` (strongest first): a key not in an episode starts one and is
    /// shown; the alert shown keeps its figures current while its key still jumps.
    pub fn update(&mut self, jumps: &[Jump], now_secs: i64) {
        self.episodes
            .retain(|_, last| now_secs.saturating_sub(*last) <= ALERT_SECS);
        let mut fresh = None;
        for j in jumps {
            if self.episodes.insert(j.key.clone(), now_secs).is_none() && fresh.is_none() {
                fresh = Some(j);
            }
        }
        match (fresh, &mut self.shown) {
            (Some(j), _) => self.shown = Some(j.clone()),
            (None, Some(shown)) => {
                if let Some(j) = jumps.iter().find(|j| j.key == shown.key) {
                    *shown = j.clone();
                }
            }
            (None, None) => {}
        }
    }

    /// `!`: the alert to jump to; it is no longer shown.
    pub fn take(&mut self) -> Option<Jump> {
        self.shown.take()
    }

    /// `x`: the alert goes; its episode stays, so it is not told again until it ends.
    pub fn dismiss(&mut self) -> bool {
        self.shown.take().is_some()
    }
}

/// The status line's text of an alert (flow data inside: sanitise it).
pub fn text(j: &Jump) -> String {
    let factor = j.factor.map_or("new".to_string(), |f| format!("×{f}"));
    let reason = j
        .reason
        .as_ref()
        .map_or(String::new(), |r| format!(" ({r})"));
    format!(
        " ▲ drops {} {factor}{reason} — ! to jump · x dismiss ",
        j.text
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jump(key: JumpKey, factor: u64) -> Jump {
        Jump {
            key,
            text: "shop/a → shop/b".into(),
            factor: Some(factor),
            reason: Some("POLICY_DENIED".into()),
            filter: vec!["--verdict".into(), "DROPPED".into()],
            drops: 40,
        }
    }

    #[test]
    fn a_jump_is_told_once_per_episode_and_again_after_it_ended() {
        let mut a = Alerts::default();
        let j = jump(JumpKey::Pair("shop/a → shop/b".into()), 8);
        a.update(std::slice::from_ref(&j), 100);
        assert_eq!(a.shown.as_ref().map(|s| s.factor), Some(Some(8)));
        assert!(a.dismiss());
        // Still jumping, a second and a recount later: not told again.
        a.update(std::slice::from_ref(&j), 101);
        a.update(&[], 102);
        a.update(std::slice::from_ref(&j), 103);
        assert!(a.shown.is_none());
        // Quiet for longer than an episode lasts, then a new jump: told.
        a.update(&[], 103 + ALERT_SECS + 1);
        a.update(std::slice::from_ref(&j), 103 + ALERT_SECS + 2);
        assert!(a.take().is_some());
        assert!(a.take().is_none());
    }

    #[test]
    fn the_shown_alert_keeps_its_figures_and_a_new_key_replaces_it() {
        let mut a = Alerts::default();
        a.update(&[jump(JumpKey::Pair("shop/a → shop/b".into()), 5)], 10);
        a.update(&[jump(JumpKey::Pair("shop/a → shop/b".into()), 9)], 11);
        assert_eq!(a.shown.as_ref().and_then(|s| s.factor), Some(9));
        a.update(
            &[
                jump(JumpKey::Pair("shop/a → shop/b".into()), 9),
                jump(JumpKey::Reason(133), 4),
            ],
            12,
        );
        assert_eq!(
            a.shown.as_ref().map(|s| s.key.clone()),
            Some(JumpKey::Reason(133))
        );
        assert_eq!(
            text(&jump(JumpKey::Pair("shop/a → shop/b".into()), 8)),
            " ▲ drops shop/a → shop/b ×8 (POLICY_DENIED) — ! to jump · x dismiss "
        );
    }
}
