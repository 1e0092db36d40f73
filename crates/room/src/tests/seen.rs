//! Last seen: recorded when a claim's last socket leaves, one log write per leave and
//! none per message, bounded, carried by the welcome, `user_left` and `presence`, kept
//! across a reopen, and never inherited by another claim of the same name.

use super::*;
use edgechat_protocol::LAST_SEEN_MAX;

fn welcome_of(effects: &[Effect], conn: &str) -> Value {
    frames_for(effects, conn)
        .into_iter()
        .find(|f| f["type"] == "welcome")
        .expect("a welcome")
}

fn seen_list(welcome: &Value) -> Vec<(String, u64)> {
    welcome["last_seen"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["name"].as_str().unwrap().to_owned(),
                        e["at"].as_u64().unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_last_socket_leaving_records_the_time_and_others_hear_it() {
    let mut r = room();
    join_as(&mut r, "a1", "Ann", "c-ann");
    join_as(&mut r, "a2", "Ann", "c-ann");
    join_as(&mut r, "b", "Bo", "c-bo");
    // One of Ann's two sockets: Ann is still here, nothing recorded.
    let first = r.leave("a1", 1_000);
    assert!(frames_for(&first, "b").is_empty());
    assert_eq!(r.log().last_seen_writes, 0);
    let last = r.leave("a2", 2_000);
    let f = frames_for(&last, "b");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["type"], "user_left");
    assert_eq!(f[0]["at"], 2_000);
    assert_eq!(r.log().last_seen_writes, 1);
    // A newcomer's welcome has it; Bo, online, is not in it.
    let w = welcome_of(&join_as(&mut r, "c", "Cy", "c-cy"), "c");
    assert_eq!(seen_list(&w), [("Ann".to_owned(), 2_000)]);
}

#[test]
fn messages_write_no_last_seen_and_online_names_are_left_out() {
    let mut r = room();
    join_as(&mut r, "a", "Ann", "c-ann");
    join_as(&mut r, "b", "Bo", "c-bo");
    r.leave("a", 10);
    let writes = r.log().last_seen_writes;
    for i in 0..5 {
        r.on_text("b", &send_frame("hi", &format!("m{i}")), 20 + i);
    }
    assert_eq!(r.log().last_seen_writes, writes, "nothing per message");
    // Ann comes back: online, so not "last seen" in anyone's welcome.
    join_as(&mut r, "a", "Ann", "c-ann");
    let w = welcome_of(&join_as(&mut r, "c", "Cy", "c-cy"), "c");
    assert!(seen_list(&w).is_empty());
    assert!(w.get("last_seen").is_none(), "an empty list is left out");
}

#[test]
fn the_list_survives_a_reopen_and_a_resume_gets_the_same_list() {
    let mut r = room();
    join_as(&mut r, "a", "Ann", "c-ann");
    join_as(&mut r, "b", "Bo", "c-bo");
    r.leave("a", 500);
    r.leave("b", 700);
    let log = r.log().clone();
    let mut again = Room::open("lobby", log, Limits::default()).unwrap();
    let fresh = welcome_of(&join_as(&mut again, "c", "Cy", "c-cy"), "c");
    assert_eq!(
        seen_list(&fresh),
        [("Bo".to_owned(), 700), ("Ann".to_owned(), 500)]
    );
    let resumed = again.resume("d".into(), &name("Di"), "c-di", Some(0), Some(0), 800);
    assert_eq!(seen_list(&welcome_of(&resumed, "d")), seen_list(&fresh));
}

#[test]
fn a_new_claim_of_the_name_inherits_nothing() {
    let mut r = room();
    join_as(&mut r, "a", "Ann", "c-old");
    r.leave("a", 100);
    // The name was released and claimed again: a new claim enters under it.
    join_as(&mut r, "n", "ann", "c-new");
    assert!(r
        .log()
        .last_seen
        .iter()
        .all(|e| e.claim.as_str() != "c-old"));
    let w = welcome_of(&join_as(&mut r, "c", "Cy", "c-cy"), "c");
    assert!(seen_list(&w).is_empty(), "the new holder is online");
    let left = r.leave("n", 900);
    assert_eq!(frames_for(&left, "c")[0]["at"], 900);
    let w = welcome_of(&join_as(&mut r, "d", "Di", "c-di"), "d");
    assert_eq!(seen_list(&w), [("ann".to_owned(), 900)]);
}

#[test]
fn a_revoked_claim_is_forgotten() {
    let mut r = room();
    join_as(&mut r, "a", "Ann", "c-ann");
    join_as(&mut r, "b", "Bo", "c-bo");
    r.input(
        50,
        Input::Revoke {
            claim: "c-ann".into(),
        },
    );
    assert!(r.log().last_seen.is_empty());
    let w = welcome_of(&join_as(&mut r, "c", "Cy", "c-cy"), "c");
    assert!(seen_list(&w).is_empty());
}

#[test]
fn the_list_keeps_only_the_most_recent_claims() {
    let mut r = room();
    for i in 0..(LAST_SEEN_MAX + 10) {
        let (conn, n, claim) = (format!("x{i}"), format!("u{i}"), format!("c{i}"));
        join_as(&mut r, &conn, &n, &claim);
        r.leave(&conn, 1_000 + i as u64);
    }
    assert_eq!(r.log().last_seen.len(), LAST_SEEN_MAX);
    let w = welcome_of(&join_as(&mut r, "z", "Zed", "c-zed"), "z");
    let list = seen_list(&w);
    assert_eq!(list.len(), LAST_SEEN_MAX);
    assert_eq!(
        list[0],
        (
            format!("u{}", LAST_SEEN_MAX + 9),
            1_000 + LAST_SEEN_MAX as u64 + 9
        )
    );
    assert!(list.iter().all(|(n, _)| n != "u0"), "the oldest went");
}

#[test]
fn presence_2_left_carries_the_time() {
    let mut r = room();
    let join2 = |r: &mut Room<MemoryLog>, id: &str, n: &str, now: u64| {
        r.input(
            now,
            Input::Connect {
                conn: id.into(),
                name: name(n),
                claim: format!("c-{n}").as_str().into(),
                since: None,
                rev: None,
                claimed_token: None,
                pass: None,
                presence2: true,
            },
        )
    };
    join2(&mut r, "a", "Ann", 0);
    join2(&mut r, "b", "Bo", 0);
    let due = r.0.deadline().unwrap();
    r.input(due, Input::Alarm);
    r.leave("b", 5_000);
    let due = r.0.deadline().unwrap();
    let tick = r.input(due, Input::Alarm);
    let f = frames_for(&tick, "a");
    assert_eq!(f[0]["type"], "presence");
    assert_eq!(f[0]["left"], json!(["Bo"]));
    assert_eq!(f[0]["last_seen"], json!([{"name": "Bo", "at": 5_000}]));
}

#[test]
fn a_failed_write_keeps_the_list_in_memory_and_tells_the_operator() {
    let mut r = room();
    join_as(&mut r, "a", "Ann", "c-ann");
    join_as(&mut r, "b", "Bo", "c-bo");
    r.0.log.fail_writes = true;
    let out = r.leave("a", 42);
    assert!(out
        .iter()
        .any(|e| matches!(e, Effect::Log { message } if message.contains("last seen"))));
    assert_eq!(frames_for(&out, "b")[0]["at"], 42);
}
