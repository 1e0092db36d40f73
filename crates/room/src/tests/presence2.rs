//! Presence 2: coalesced ticks, a join and a leave cancelling out, counts above the
//! list size, paging, and legacy sockets still hearing each change.

use super::*;

fn join2(r: &mut Room<MemoryLog>, id: &str, n: &str, now: u64) -> Vec<Effect> {
    let input = Input::Connect {
        conn: id.into(),
        name: name(n),
        claim: n.to_lowercase().as_str().into(),
        since: None,
        rev: None,
        claimed_token: None,
        pass: None,
        presence2: true,
    };
    r.input(now, input)
}

#[test]
fn joins_of_a_tick_are_one_frame_and_a_join_then_leave_cancels_out() {
    let mut r = room();
    join2(&mut r, "a", "Ann", 0);
    let legacy = r.join("l".into(), &name("Leg"), None, 0);
    assert!(!legacy.is_empty());
    let mut seen = Vec::new();
    for (i, n) in ["Bo", "Cy", "Di"].iter().enumerate() {
        seen.extend(join2(&mut r, &format!("c{i}"), n, 10 + i as u64));
    }
    seen.extend(r.input(20, Input::Close { conn: "c2".into() }));
    // Nothing to the presence-2 socket before the tick; the legacy one heard each join.
    assert!(frames_for(&seen, "a").is_empty());
    assert_eq!(
        types(&frames_for(&seen, "l"))
            .iter()
            .filter(|t| **t == "user_joined")
            .count(),
        3
    );
    let due = r.0.deadline().unwrap();
    let tick = r.input(due, Input::Alarm);
    let f = frames_for(&tick, "a");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["type"], "presence");
    assert_eq!(f[0]["count"], 4);
    let joined: Vec<_> = f[0]["joined"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].clone())
        .collect();
    assert_eq!(joined, [json!("Bo"), json!("Cy"), json!("Leg")]);
    assert!(
        f[0].get("left").is_none(),
        "Di joined and left within the tick"
    );
    assert!(frames_for(&tick, "l").is_empty());
    // Nothing changed: no frame at the next tick.
    assert!(r.0.deadline().is_none());
}

#[test]
fn above_the_list_size_counts_only_and_the_list_pages() {
    let mut r = room();
    r.0.set_presence(PresenceSettings {
        tick_ms: 100,
        list_max: 2,
    });
    join2(&mut r, "a", "Ann", 0);
    join2(&mut r, "b", "Bo", 0);
    join2(&mut r, "c", "Cy", 0);
    let w = frames_for(&join2(&mut r, "d", "Di", 0), "d");
    assert_eq!(w[0]["user_count"], 4);
    assert_eq!(w[0]["users_partial"], true);
    assert_eq!(w[0]["users"], json!([]));
    let tick = r.input(100, Input::Alarm);
    let f = frames_for(&tick, "a");
    assert_eq!(f[0]["partial"], true);
    assert!(f[0].get("joined").is_none());
    let p = frames_for(&r.on_text("d", r#"{"type":"users","limit":3}"#, 200), "d");
    assert_eq!(p[0]["users"].as_array().unwrap().len(), 3);
    assert_eq!(p[0]["next"], "Cy");
    let p = frames_for(
        &r.on_text("d", r#"{"type":"users","after":"Cy","limit":3}"#, 201),
        "d",
    );
    assert_eq!(p[0]["users"], json!([{"name":"Di","status":"online"}]));
    assert!(p[0].get("next").is_none());
    let bad = frames_for(&r.on_text("d", r#"{"type":"users","limit":0}"#, 202), "d");
    assert_eq!(bad[0]["code"], "bad_frame");
}
