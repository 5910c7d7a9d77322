//! Gossipsub peer scoring for the consortium's announcement topic.
//!
//! Owns: the score parameters and thresholds, and the rule that turns a score into a ban. The
//! weights are chosen for this topic's traffic: few, small messages (a checkpoint per append,
//! rare fork proofs) from a closed set of peers (only roster members connect, see
//! `membership`). So the score is driven by invalid messages: every announcement the node
//! rejects (`MessageAcceptance::Reject`) costs its forwarder, quadratically in their number,
//! and a peer whose score falls below the graylist threshold is banned like any peer that
//! breaks the protocol. Good behaviour earns little (the positive part is capped low), so no
//! peer can bank credit to spend on invalid messages.
//! Deliberately off: mesh delivery deficits (P3, P3b: a quiet honest feed sends nothing for
//! long stretches, which those counters would punish) and IP colocation (P6: the roster gate
//! already keeps out the throwaway identities it defends against, while several members may
//! well share an address).
//! Does not own: judging announcements (the node's sync service) or banning (the swarm task).

use std::collections::HashMap;
use std::time::Duration;

use libp2p::gossipsub::{
    PeerScoreParams, PeerScoreThresholds, TopicHash, TopicScoreParams, score_parameter_decay,
};

/// Score added per invalid message, times the square of the peer's recent invalid messages:
/// one costs 30, two 120 (past the graylist threshold, so banned), with the count decaying
/// over [`INVALID_MESSAGE_MEMORY`].
const INVALID_MESSAGE_WEIGHT: f64 = -30.0;
/// How long an invalid message weighs on its forwarder's score (to a tenth of its weight).
const INVALID_MESSAGE_MEMORY: Duration = Duration::from_secs(60);
/// Most score the topic's good behaviour can earn a peer: far less than the 90 a second
/// invalid message adds to the cost of the first, so no record of good behaviour buys one.
const TOPIC_SCORE_CAP: f64 = 10.0;
/// Below this score gossipsub ignores a peer's messages; the swarm task then bans the peer
/// (disconnects and blocks it for `PENALTY_DURATION`).
pub(super) const GRAYLIST_THRESHOLD: f64 = -80.0;

/// Score parameters with the announcement topic's weights.
pub(super) fn params(topic: TopicHash) -> PeerScoreParams {
    let announcements = TopicScoreParams {
        topic_weight: 1.0,
        // Staying in the mesh and delivering first earn a little, up to the cap.
        time_in_mesh_weight: 0.01,
        time_in_mesh_quantum: Duration::from_secs(1),
        time_in_mesh_cap: 300.0,
        first_message_deliveries_weight: 0.5,
        first_message_deliveries_decay: score_parameter_decay(Duration::from_secs(600)),
        first_message_deliveries_cap: 10.0,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: INVALID_MESSAGE_WEIGHT,
        invalid_message_deliveries_decay: score_parameter_decay(INVALID_MESSAGE_MEMORY),
        ..TopicScoreParams::default()
    };
    PeerScoreParams {
        topics: HashMap::from([(topic, announcements)]),
        topic_score_cap: TOPIC_SCORE_CAP,
        ip_colocation_factor_weight: 0.0,
        ..PeerScoreParams::default()
    }
}

/// Thresholds: gossipsub's usual ladder (stop gossiping to a peer, then stop publishing to it,
/// then ignore it), with the graylist threshold also the ban line.
pub(super) fn thresholds() -> PeerScoreThresholds {
    PeerScoreThresholds {
        gossip_threshold: -10.0,
        publish_threshold: -50.0,
        graylist_threshold: GRAYLIST_THRESHOLD,
        ..PeerScoreThresholds::default()
    }
}

/// Whether a peer with `score` is banned.
pub(super) fn is_banned(score: f64) -> bool {
    score < GRAYLIST_THRESHOLD
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parameters_are_valid_for_gossipsub() {
        let topic = crate::network::announcement_topic("test").hash();
        params(topic).validate().unwrap();
        thresholds().validate().unwrap();
    }

    #[test]
    fn one_invalid_message_is_forgiven_two_in_a_row_ban_even_a_peer_at_the_cap() {
        let score_after =
            |invalid: f64| TOPIC_SCORE_CAP + INVALID_MESSAGE_WEIGHT * invalid * invalid;
        assert!(!is_banned(score_after(1.0)));
        assert!(is_banned(score_after(2.0)));
    }
}
