//! Connections and presence: welcomes, resumes, who is here, status, a wake, the socket caps,
//! identity by claim.

use super::*;

#[test]
fn welcome_lists_users_and_the_newest_messages() {
    let mut r = room();
    r.join("a".into(), &name("Alice"), None, 0);
    for i in 0..60 {
        send_durable(&mut r, "a", &format!("m{i}"), &format!("c{i}"), i);
    }
    let e = r.join("b".into(), &name("bob"), None, 100);
    let f = frames_for(&e, "b");
    assert_eq!(f[0]["type"], "welcome");
    assert_eq!(f[0]["room"], "lobby");
    assert_eq!(f[0]["you"], json!({"name":"bob","status":"online"}));
    assert_eq!(
        f[0]["users"],
        json!([{"name":"Alice","status":"online"},{"name":"bob","status":"online"}])
    );
    let msgs = f[0]["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 50);
    assert_eq!(msgs[0]["seq"], 11);
    assert_eq!(msgs[49]["seq"], 60);
    assert_eq!(f[0]["last_seq"], 60);
    assert_eq!(f[0]["has_more"], true);
    // Alice hears that bob joined; bob does not hear it himself.
    assert_eq!(types(&frames_for(&e, "a")), ["user_joined"]);
    assert_eq!(frames_for(&e, "a")[0]["user"]["name"], "bob");
    assert_eq!(types(&f), ["welcome"]);
}

#[test]
fn resume_with_since_gives_exactly_the_missed_messages() {
    let mut r = room();
    r.join("a".into(), &name("a"), None, 0);
    for i in 0..10 {
        send_durable(&mut r, "a", "x", &format!("c{i}"), i);
    }
    let f = frames_for(&r.join("b".into(), &name("b"), Some(7), 0), "b");
    let seqs = seqs_of(&f[0]["messages"]);
    assert_eq!(seqs, [8, 9, 10]);
    assert_eq!(f[0]["has_more"], false);
    let f = frames_for(&r.join("c".into(), &name("c"), Some(99), 0), "c");
    assert_eq!(f[0]["messages"], json!([]));
    assert_eq!(f[0]["last_seq"], 10);
}

#[test]
fn resume_caps_at_500_and_says_more_follow() {
    let mut log = MemoryLog::default();
    for seq in 1..=600 {
        let m = Message {
            seq,
            room: "lobby".into(),
            name: "a".into(),
            text: "t".into(),
            ts: seq,
            client_id: Some(format!("c{seq}")),
            ..Message::default()
        };
        log.append(&m, "a", "a", seq).unwrap();
    }
    log.durable_rev = 600;
    let mut r = Room::open("lobby", log, Limits::default()).unwrap();
    let f = frames_for(&r.join("b".into(), &name("b"), Some(0), 0), "b");
    let msgs = f[0]["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 500);
    assert_eq!(msgs[0]["seq"], 1);
    assert_eq!(f[0]["has_more"], true);
}

#[test]
fn presence_is_per_name_not_per_connection() {
    let mut r = room();
    r.join("a1".into(), &name("Alice"), None, 0);
    r.join("b".into(), &name("bob"), None, 0);
    let e = r.join("a2".into(), &name("alice"), None, 0);
    assert!(frames_for(&e, "b").is_empty(), "a second tab is not a join");
    let f = frames_for(&e, "a2");
    assert_eq!(f[0]["you"]["name"], "Alice", "shown as first spelled");
    assert_eq!(r.users().len(), 2);
    assert!(frames_for(&r.leave("a1", 0), "b").is_empty());
    let f = frames_for(&r.leave("a2", 0), "b");
    assert_eq!(
        f,
        [json!({"type":"user_left","user":{"name":"Alice","status":"online"},"at":0})]
    );
    assert_eq!(r.users().len(), 1);
}

#[test]
fn status_changes_reach_the_others_and_every_tab_attachment() {
    let mut r = room();
    r.join("a1".into(), &name("Alice"), None, 0);
    r.join("a2".into(), &name("alice"), None, 0);
    r.join("b".into(), &name("bob"), None, 0);
    let e = r.on_text("a1", r#"{"type":"status","status":"dnd"}"#, 0);
    let saved: Vec<&Attachment> = e
        .iter()
        .filter_map(|e| match e {
            Effect::Save { attachment } => Some(attachment),
            _ => None,
        })
        .collect();
    assert_eq!(saved.len(), 2);
    assert!(saved
        .iter()
        .all(|a| a.status == Status::Dnd && a.name == "Alice"));
    assert_eq!(
        frames_for(&e, "b"),
        [json!({"type":"user_status","user":{"name":"Alice","status":"dnd"}})]
    );
    assert!(frames_for(&e, "a1").is_empty());
    assert_eq!(types(&frames_for(&e, "a2")), ["user_status"]);
    let f = frames_for(&r.join("c".into(), &name("c"), None, 0), "c");
    assert_eq!(f[0]["users"][0], json!({"name":"Alice","status":"dnd"}));
}

#[test]
fn a_wake_restores_identities_without_announcing_anything() {
    let mut r = room();
    r.join("a".into(), &name("Alice"), None, 0);
    r.on_text("a", r#"{"type":"status","status":"away"}"#, 0);
    send_durable(&mut r, "a", "x", "c1", 0);
    let log = r.log().clone();
    // The Durable Object is evicted; a new instance rebuilds from the log and attachments.
    let mut woken = Room::open("lobby", log, Limits::default()).unwrap();
    woken.restore(
        Attachment {
            id: "a".into(),
            name: "Alice".into(),
            claim: "alice".into(),
            status: Status::Away,
            presence2: false,
        },
        50_000,
    );
    assert_eq!(
        woken.users(),
        [User {
            name: "Alice".into(),
            status: Status::Away
        }]
    );
    assert_eq!(woken.last_seq(), 1);
    // Dedupe survives the wake too.
    let f = frames_for(&woken.on_text("a", &send_frame("again", "c1"), 50_001), "a");
    assert_eq!(f, [json!({"type":"ack","client_id":"c1","seq":1})]);
    woken.restore(
        Attachment {
            id: "b".into(),
            name: "Bo".into(),
            claim: "bo".into(),
            status: Status::Online,
            presence2: false,
        },
        50_001,
    );
    let e = woken.leave("a", 50_002);
    assert_eq!(types(&frames_for(&e, "b")), ["user_left"]);
}

#[test]
fn a_name_claimed_again_is_a_new_person_who_inherits_nothing() {
    let mut r = room();
    join_as(&mut r, "ann1", "Ann", "claim-1");
    join_as(&mut r, "bo", "Bo", "claim-bo");
    send_durable(&mut r, "ann1", "mine", "c1", 1);
    r.on_text("ann1", &frame(json!({"type":"read","seq":1})), 2);
    r.add_file("claim-1", &file("f1"), 0).unwrap();
    r.leave("ann1", 3);
    // Ann released the name; someone else claims "ann" and walks in.
    let e = join_as(&mut r, "ann2", "ann", "claim-2");
    let welcome = &frames_for(&e, "ann2")[0];
    assert_eq!(
        welcome["read_seq"], 0,
        "the old holder's read position stays hers"
    );
    assert_eq!(
        welcome["owner"], "Ann",
        "old messages keep the name they were sent under"
    );
    assert_eq!(
        welcome["role"],
        Value::Null,
        "the room's ownership stays with the old claim"
    );
    for f in [
        json!({"type":"edit","seq":1,"text":"hijacked","client_id":"e1"}),
        json!({"type":"delete","seq":1,"client_id":"d1"}),
    ] {
        let got = frames_for(&r.on_text("ann2", &frame(f), 4), "ann2");
        assert_eq!(got[0]["code"], "forbidden", "{got:?}");
    }
    let e = r.on_text("ann2", &frame(json!({"type":"kick","name":"Bo"})), 4);
    assert_eq!(frames_for(&e, "ann2")[0]["code"], "forbidden");
    assert!(closes(&e).is_empty(), "Bo stays");
    let e = r.on_text(
        "ann2",
        &frame(json!({"type":"send","text":"x","client_id":"s1","attachment":"f1"})),
        4,
    );
    assert_eq!(
        frames_for(&e, "ann2")[0]["code"],
        "not_found",
        "not her file"
    );
    assert_eq!(r.log().get(1).unwrap().unwrap().message.text, "mine");
    // The old holder, back with her claim, still has all of it.
    let e = join_as(&mut r, "ann3", "Ann", "claim-1");
    assert_eq!(frames_for(&e, "ann3")[0]["read_seq"], 1);
    assert_eq!(frames_for(&e, "ann3")[0]["role"], "owner");
    let e = r.on_text(
        "ann3",
        &frame(json!({"type":"edit","seq":1,"text":"still mine","client_id":"e2"})),
        5,
    );
    assert_eq!(frames_for(&e, "bo")[0]["type"], "update");
}

#[test]
fn admission_caps_sockets_per_claim_and_per_room() {
    let limits = Limits {
        sockets_per_claim: 2,
        sockets_per_room: 4,
        ..Limits::default()
    };
    let mut r = Room::open("lobby", MemoryLog::default(), limits).unwrap();
    let ann = name("Ann");
    assert_eq!(r.admission(&ann, Some("claim-ann"), 0), None);
    join_as(&mut r, "a1", "Ann", "claim-ann");
    join_as(&mut r, "a2", "Ann", "claim-ann");
    let refusal = r.admission(&ann, Some("claim-ann"), 0).unwrap();
    assert_eq!(refusal.code, ErrorCode::TooManySockets);
    assert!(
        refusal.message.contains("2 connections"),
        "{}",
        refusal.message
    );
    // The plain HTTP probe, which proves no claim, counts the name's sockets.
    assert_eq!(
        r.admission(&ann, None, 0).map(|r| r.code),
        Some(ErrorCode::TooManySockets)
    );
    // One closes: a slot is free again.
    r.leave("a2", 0);
    assert_eq!(r.admission(&ann, Some("claim-ann"), 0), None);
    // The room's cap counts everyone.
    join_as(&mut r, "b", "Bo", "claim-bo");
    join_as(&mut r, "c", "Cy", "claim-cy");
    join_as(&mut r, "d", "Di", "claim-di");
    let refusal = r.admission(&name("Ed"), Some("claim-ed"), 0).unwrap();
    assert_eq!(refusal.code, ErrorCode::TooManySockets);
    assert!(refusal.message.contains("full"), "{}", refusal.message);
    // Restored sockets (after a wake) count the same.
    let mut woken = Room::open("lobby", MemoryLog::default(), limits).unwrap();
    for (id, claim) in [("a1", "claim-ann"), ("a2", "claim-ann")] {
        woken.restore(
            Attachment {
                id: id.into(),
                name: "Ann".into(),
                claim: claim.into(),
                status: Status::Online,
                presence2: false,
            },
            0,
        );
    }
    assert_eq!(
        woken.admission(&ann, Some("claim-ann"), 0).map(|r| r.code),
        Some(ErrorCode::TooManySockets)
    );
}

#[test]
fn a_repeated_status_is_accepted_silently() {
    let mut r = room();
    r.join("a1".into(), &name("Alice"), None, 0);
    r.join("a2".into(), &name("Alice"), None, 0);
    r.join("b".into(), &name("bob"), None, 0);
    let away = r#"{"type":"status","status":"away"}"#;
    assert_eq!(
        types(&frames_for(&r.on_text("a1", away, 0), "b")),
        ["user_status"]
    );
    for t in 1..100 {
        let e = r.on_text("a1", away, t);
        assert!(e.is_empty(), "no broadcast, no save, no error: {e:?}");
        // From the other tab too: the name's status is already away.
        assert!(r.on_text("a2", away, t).is_empty());
    }
    let online = r#"{"type":"status","status":"online"}"#;
    assert_eq!(
        types(&frames_for(&r.on_text("a2", online, 100), "b")),
        ["user_status"]
    );
}

#[test]
fn a_revoked_claim_is_told_and_closed_and_everyone_else_stays() {
    let mut r = ann_and_bo();
    // Ann on a second socket too: both of her connections go, Bo's stays.
    r.join("a2".into(), &name("Ann"), None, 20);
    let claim = ClaimId::from(name("Ann").key().to_owned());
    let e = r.input(30, Input::Revoke { claim });
    for conn in ["a", "a2"] {
        let f = frames_for(&e, conn);
        assert_eq!(f[0]["type"], "error", "{conn}: {f:?}");
        assert_eq!(f[0]["code"], "name_taken");
    }
    let mut closed = closes(&e);
    closed[0].0.sort();
    assert_eq!(
        closed,
        [(vec!["a".to_owned(), "a2".to_owned()], CLOSE_CLAIM_GONE)]
    );
    assert_eq!(types(&frames_for(&e, "b")), ["user_left"]);
    // Bo still sends and is heard; a revoke of a claim with no socket does nothing.
    send_durable(&mut r, "b", "still here", "c2", 40);
    let nobody = r.input(
        50,
        Input::Revoke {
            claim: "nobody".into(),
        },
    );
    assert!(nobody.is_empty());
}
