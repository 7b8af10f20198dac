//! Lost events as the banner tells them: the totals, and what was lost since the user
//! acknowledged them (`L`). Acknowledging hides the banner until more are lost; the counters
//! pane keeps the totals.

use super::model;
use super::render::thousands;
use crate::store::Counters;

/// Nodes the banner is given at most (it has one line; the rest is `…`).
const BANNER_NODES: usize = 16;

/// `1 event`, `6 events`, `1,234 events`.
pub fn events(n: u64) -> String {
    let noun = if n == 1 { "event" } else { "events" };
    format!("{} {noun}", thousands(n))
}

/// `1 lost event`, `6 lost events`.
fn lost_events(n: u64) -> String {
    let noun = if n == 1 { "lost event" } else { "lost events" };
    format!("{} {noun}", thousands(n))
}

/// What the user has acknowledged.
#[derive(Debug, Default)]
pub struct LostAck {
    /// The lost total when the user last acknowledged; `None` before.
    acked: Option<u64>,
}

impl LostAck {
    /// Acknowledges the `total` lost so far; returns what to tell the user.
    pub fn acknowledge(&mut self, total: u64) -> String {
        let new = total.saturating_sub(self.acked.unwrap_or(0));
        if total == 0 {
            return "no events lost".into();
        }
        if new == 0 {
            return "no events lost since you acknowledged".into();
        }
        self.acked = Some(total);
        format!("acknowledged {}", lost_events(new))
    }

    /// The banner for these counters: empty when nothing was lost, or nothing since the user
    /// acknowledged.
    pub fn banner(&self, c: &Counters) -> model::Lost {
        let total = c.lost_total();
        let since_ack = self.acked.map(|a| total.saturating_sub(a));
        if total == 0 || since_ack == Some(0) {
            return model::Lost::default();
        }
        let nodes = c.lost_by_node();
        model::Lost {
            total,
            since_ack,
            sources: Counters::sorted(&c.lost)
                .into_iter()
                .filter(|(_, n)| n.total > 0)
                .map(|(src, n)| (src, n.total))
                .collect(),
            more_nodes: nodes.len() > BANNER_NODES,
            nodes: nodes
                .into_iter()
                .take(BANNER_NODES)
                .map(|(name, n)| (name.to_string(), n))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::flow::LostEvent;

    fn lose(c: &mut Counters, n: u64, node: &str) {
        let ev = LostEvent {
            source: 1,
            num_events_lost: n,
            ..Default::default()
        };
        c.count_lost(&ev, node, 0);
    }

    #[test]
    fn plurals_are_right() {
        assert_eq!(events(0), "0 events");
        assert_eq!(events(1), "1 event");
        assert_eq!(events(6), "6 events");
        assert_eq!(events(1234), "1,234 events");
    }

    #[test]
    fn acknowledging_hides_the_banner_until_more_are_lost() {
        let mut c = Counters::default();
        let mut ack = LostAck::default();
        assert!(ack.banner(&c).is_empty());
        assert_eq!(ack.acknowledge(0), "no events lost");
        lose(&mut c, 6, "kind-worker");
        let b = ack.banner(&c);
        assert_eq!((b.total, b.since_ack), (6, None));
        assert_eq!(b.sources, [(1, 6)]);
        assert_eq!(b.nodes, [("kind-worker".to_string(), 6)]);

        assert!(ack.acknowledge(6).starts_with("acknowledged 6 lost events"));
        assert!(ack.banner(&c).is_empty(), "nothing new");
        assert_eq!(ack.acknowledge(6), "no events lost since you acknowledged");

        lose(&mut c, 1, "");
        let b = ack.banner(&c);
        assert_eq!((b.total, b.since_ack), (7, Some(1)));
        assert_eq!(ack.acknowledge(7), "acknowledged 1 lost event");
        assert!(ack.banner(&c).is_empty());
    }

    #[test]
    fn the_banner_gets_the_largest_nodes_and_says_there_are_more() {
        let mut c = Counters::default();
        for i in 0..BANNER_NODES + 2 {
            lose(&mut c, 1 + i as u64, &format!("node-{i:02}"));
        }
        let b = LostAck::default().banner(&c);
        assert_eq!(b.nodes.len(), BANNER_NODES);
        assert!(b.more_nodes);
        assert_eq!(b.nodes[0].0, format!("node-{:02}", BANNER_NODES + 1));
    }
}
