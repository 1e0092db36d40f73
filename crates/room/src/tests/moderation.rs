//! Moderation: owners, moderators, kicks, bans, making a room.

use super::*;

#[test]
fn the_first_name_in_a_room_creates_and_moderates_it() {
    let mut r = ann_and_bo();
    assert_eq!(r.creator(), Some("Ann"));
    let f = frames_for(&r.join("c".into(), &name("Cy"), None, 0), "c");
    assert_eq!(f[0]["creator"], "Ann");
    // Others may not moderate.
    for frame in [
        json!({"type":"kick","name":"Ann"}),
        json!({"type":"ban","name":"Ann"}),
        json!({"type":"unban","name":"Ann"}),
    ] {
        let e = r.on_text("b", &frame.to_string(), 1);
        assert_eq!(frames_for(&e, "b")[0]["code"], "forbidden", "{frame}");
    }
    // The creator may delete anyone's message, and that is audited.
    send_durable(&mut r, "b", "spam", "s1", 5);
    let e = r.on_text("a", &frame(json!({"type":"delete","seq":2})), 6);
    let f = frames_for(&e, "c");
    assert_eq!(types(&f), ["update", "moderation"]);
    assert_eq!(f[0]["message"]["deleted"], true);
    assert_eq!(
        f[1],
        json!({"type":"moderation","action":"delete","by":"Ann","name":"Bo","seq":2,"ts":6})
    );
    assert_eq!(r.pending_audit().len(), 1);
    // Deleting one's own message is not moderation.
    let e = r.on_text("a", &frame(json!({"type":"delete","seq":1})), 7);
    assert_eq!(types(&frames_for(&e, "c")), ["update"]);
    assert_eq!(r.pending_audit().len(), 1);
    r.audit_durable(1);
    assert!(r.pending_audit().is_empty());
}

#[test]
fn a_kick_closes_every_connection_of_the_name_and_it_may_come_back() {
    let mut r = ann_and_bo();
    r.join("b2".into(), &name("bo"), None, 0);
    let e = r.on_text("a", &frame(json!({"type":"kick","name":"BO"})), 10);
    let f = frames_for(&e, "a");
    assert_eq!(types(&f), ["moderation", "user_left"]);
    assert_eq!(f[0]["action"], "kick");
    assert_eq!(f[0]["name"], "Bo");
    assert_eq!(
        frames_for(&e, "b")[0]["type"],
        "moderation",
        "the kicked hear why"
    );
    assert_eq!(
        closes(&e),
        [(vec!["b".to_owned(), "b2".to_owned()], CLOSE_REMOVED)]
    );
    assert_eq!(r.users().len(), 1);
    assert!(r.refusal_for(&name("Bo"), 11).is_none());
    let e = r.on_text("a", &frame(json!({"type":"kick","name":"Bo"})), 12);
    assert_eq!(frames_for(&e, "a")[0]["code"], "not_found");
    let e = r.on_text("a", &frame(json!({"type":"kick","name":"ann"})), 12);
    assert_eq!(frames_for(&e, "a")[0]["code"], "bad_frame");
}

#[test]
fn a_ban_refuses_the_name_until_it_runs_out_or_is_lifted_and_survives_a_restart() {
    let mut r = ann_and_bo();
    let e = r.on_text(
        "a",
        &frame(json!({"type":"ban","name":"Bo","minutes":2,"reason":" spam "})),
        1_000,
    );
    let f = frames_for(&e, "a");
    assert_eq!(
        f[0],
        json!({"type":"moderation","action":"ban","by":"Ann","name":"Bo","until":121_000,
               "reason":"spam","ts":1_000})
    );
    assert_eq!(closes(&e).len(), 1);
    let refusal = r.refusal_for(&name("bo"), 2_000).unwrap();
    assert_eq!(refusal.code, ErrorCode::Banned);
    assert_eq!(
        refusal.message,
        "bo is banned from this room by Ann for 2 more minutes (reason: spam)"
    );
    assert!(r.refusal_for(&name("Cy"), 2_000).is_none());
    assert!(r.refusal_for(&name("Bo"), 121_000).is_none(), "it runs out");
    // A name not present can be banned ahead; a restart keeps bans and the creator.
    r.on_text("a", &frame(json!({"type":"ban","name":"Dee"})), 3_000);
    let log = r.log().clone();
    let mut r = Room::open("lobby", log, Limits::default()).unwrap();
    assert_eq!(r.creator(), Some("Ann"));
    assert!(r.refusal_for(&name("Dee"), 4_000).is_some());
    assert_eq!(r.pending_audit().len(), 2);
    r.join("a".into(), &name("Ann"), None, 5_000);
    let e = r.on_text("a", &frame(json!({"type":"unban","name":"dee"})), 5_000);
    assert_eq!(frames_for(&e, "a")[0]["action"], "unban");
    assert!(r.refusal_for(&name("Dee"), 5_001).is_none());
    let e = r.on_text("a", &frame(json!({"type":"unban","name":"dee"})), 5_000);
    assert_eq!(frames_for(&e, "a")[0]["code"], "not_found");
    for bad in [
        json!({"type":"ban","name":"Bo","minutes":0}),
        json!({"type":"ban","name":"Bo","minutes":525_601}),
        json!({"type":"ban","name":"","minutes":5}),
        json!({"type":"ban","name":"Bo","reason":"x".repeat(201)}),
    ] {
        let e = r.on_text("a", &frame(bad.clone()), 6_000);
        assert_eq!(frames_for(&e, "a")[0]["code"], "bad_frame", "{bad}");
    }
}

#[test]
fn the_owner_appoints_and_dismisses_moderators_who_moderate_but_do_not_appoint() {
    let mut r = room();
    join_as(&mut r, "ann", "Ann", "c-ann");
    join_as(&mut r, "bo", "Bo", "c-bo");
    join_as(&mut r, "cy", "Cy", "c-cy");
    let spam = send_durable(&mut r, "cy", "spam", "s1", 1);
    assert_eq!(frames_for(&spam, "cy")[0]["message"]["seq"], 1);
    // Only the owner appoints; only connected names can be appointed.
    let e = r.on_text("bo", &frame(json!({"type":"appoint","name":"Bo"})), 2);
    assert_eq!(frames_for(&e, "bo")[0]["code"], "forbidden");
    let e = r.on_text("ann", &frame(json!({"type":"appoint","name":"Nobody"})), 2);
    assert_eq!(frames_for(&e, "ann")[0]["code"], "not_found");
    let e = r.on_text("ann", &frame(json!({"type":"appoint","name":"bo"})), 2);
    assert_eq!(
        frames_for(&e, "cy")[0],
        json!({"type":"roles","owner":"Ann","moderators":["Bo"]})
    );
    assert_eq!(r.role_of("c-bo"), Some(Role::Moderator));
    // A moderator deletes anyone's message and kicks, but not the owner, and appoints nobody.
    let e = r.on_text("bo", &frame(json!({"type":"delete","seq":1})), 3);
    assert!(frames_for(&e, "cy")
        .iter()
        .any(|f| f["type"] == "moderation"));
    let e = r.on_text("bo", &frame(json!({"type":"kick","name":"Ann"})), 3);
    assert_eq!(frames_for(&e, "bo")[0]["code"], "forbidden");
    let e = r.on_text(
        "bo",
        &frame(json!({"type":"ban","name":"ann","minutes":5})),
        3,
    );
    assert_eq!(frames_for(&e, "bo")[0]["code"], "forbidden");
    let e = r.on_text("bo", &frame(json!({"type":"appoint","name":"Cy"})), 3);
    assert_eq!(frames_for(&e, "bo")[0]["code"], "forbidden");
    let e = r.on_text("bo", &frame(json!({"type":"kick","name":"Cy"})), 3);
    assert_eq!(closes(&e), vec![(vec!["cy".to_string()], CLOSE_REMOVED)]);
    // A restart keeps the roles; the welcome says who runs the room.
    let log = r.log().clone();
    let mut r = Room::open("lobby", log, Limits::default()).unwrap();
    let e = join_as(&mut r, "bo2", "Bo", "c-bo");
    let w = &frames_for(&e, "bo2")[0];
    assert_eq!(
        (&w["owner"], &w["moderators"], &w["role"]),
        (&json!("Ann"), &json!(["Bo"]), &json!("moderator"))
    );
    join_as(&mut r, "ann", "Ann", "c-ann");
    let e = r.on_text("ann", &frame(json!({"type":"dismiss","name":"BO"})), 4);
    assert_eq!(frames_for(&e, "bo2")[0]["moderators"], json!([]));
    join_as(&mut r, "cy", "Cy", "c-cy");
    let e = r.on_text("bo2", &frame(json!({"type":"kick","name":"Cy"})), 5);
    assert_eq!(frames_for(&e, "bo2")[0]["code"], "forbidden");
    let e = r.on_text("ann", &frame(json!({"type":"dismiss","name":"Cy"})), 5);
    assert_eq!(frames_for(&e, "ann")[0]["code"], "not_found");
}

#[test]
fn a_room_is_made_once_by_its_maker_and_a_direct_message_has_no_owner() {
    let mut r = room();
    let ann = Member {
        claim: "c-ann".into(),
        name: "Ann".into(),
    };
    assert_eq!(r.make(ann.clone()), Ok(()));
    assert_eq!(r.make(ann.clone()), Ok(()), "a retry of the same making");
    let mallory = Member {
        claim: "c-m".into(),
        name: "Mallory".into(),
    };
    assert_eq!(
        r.make(mallory.clone()).unwrap_err().code,
        ErrorCode::RoomExists
    );
    // Whoever connects first, the maker owns it.
    let e = join_as(&mut r, "m", "Mallory", "c-m");
    assert_eq!(frames_for(&e, "m")[0]["owner"], "Ann");
    assert_eq!(frames_for(&e, "m")[0]["role"], Value::Null);
    // A room that someone entered first exists: it cannot be made by another.
    let mut squatted = room();
    join_as(&mut squatted, "m", "Mallory", "c-m");
    assert_eq!(squatted.make(ann).unwrap_err().code, ErrorCode::RoomExists);

    let mut dm = Room::open("dm--0123", MemoryLog::default(), Limits::default()).unwrap();
    let e = join_as(&mut dm, "a", "Ann", "c-ann");
    assert_eq!(frames_for(&e, "a")[0]["owner"], Value::Null);
    join_as(&mut dm, "b", "Bo", "c-bo");
    for f in [
        json!({"type":"kick","name":"Bo"}),
        json!({"type":"ban","name":"Bo"}),
        json!({"type":"appoint","name":"Bo"}),
    ] {
        let e = dm.on_text("a", &frame(f), 1);
        assert_eq!(frames_for(&e, "a")[0]["code"], "forbidden");
        assert!(closes(&e).is_empty());
    }
    assert_eq!(dm.make(mallory).unwrap_err().code, ErrorCode::RoomExists);
}
