//! Changes (edit, delete, react, replies) and the pages of history that show them, within
//! the frame budget.

use super::*;

#[test]
fn history_pages_show_every_logged_message() {
    let mut r = room();
    r.join("a".into(), &name("a"), None, 0);
    for i in 0..29 {
        send_durable(&mut r, "a", "x", &format!("c{i}"), 0);
    }
    // Broadcast already, so shown, though not yet in the history database.
    r.on_text("a", &send_frame("not yet durable", "late"), 0);
    let f = frames_for(
        &r.on_text("a", r#"{"type":"history","before":11,"limit":5}"#, 0),
        "a",
    );
    let seqs = seqs_of(&f[0]["messages"]);
    assert_eq!(seqs, [6, 7, 8, 9, 10]);
    assert_eq!(f[0]["has_more"], true);
    let f = frames_for(
        &r.on_text("a", r#"{"type":"history","after":25,"limit":10}"#, 0),
        "a",
    );
    let seqs = seqs_of(&f[0]["messages"]);
    assert_eq!(seqs, [26, 27, 28, 29, 30]);
    assert_eq!(f[0]["has_more"], false);
}

#[test]
fn an_edit_changes_the_message_in_place_for_everyone() {
    let mut r = ann_and_bo();
    let e = r.on_text(
        "a",
        &frame(json!({"type":"edit","seq":1,"text":" hello there ","client_id":"e1"})),
        20,
    );
    let f = frames_for(&e, "b");
    assert_eq!(types(&f), ["update"]);
    assert_eq!(f[0]["rev"], 2);
    assert_eq!(f[0]["message"]["seq"], 1);
    assert_eq!(f[0]["message"]["text"], "hello there");
    assert_eq!(f[0]["message"]["edited_ts"], 20);
    assert_eq!(frames_for(&e, "a"), f);
    // The seq stays: the next message is 2, and history shows the edited text.
    assert_eq!(r.last_seq(), 1);
    assert_eq!(r.last_rev(), 2);
    let h = frames_for(&r.on_text("b", r#"{"type":"history"}"#, 30), "b");
    assert_eq!(h[0]["messages"][0]["text"], "hello there");
    // The change waits for the history database like a message does.
    assert_eq!(r.pending().len(), 1);
    assert_eq!(r.pending()[0].0, 2);
    r.durable(2);
    assert!(!r.has_pending());
    // The same edit again changes nothing and answers only its sender.
    let e = r.on_text(
        "a",
        &frame(json!({"type":"edit","seq":1,"text":"hello there"})),
        40,
    );
    assert!(frames_for(&e, "b").is_empty());
    assert_eq!(frames_for(&e, "a")[0]["message"]["edited_ts"], 20);
    assert_eq!(r.last_rev(), 2);
}

#[test]
fn only_the_author_edits_or_deletes_and_only_messages_that_exist() {
    let mut r = ann_and_bo();
    for f in [
        json!({"type":"edit","seq":1,"text":"mine now","client_id":"x"}),
        json!({"type":"delete","seq":1,"client_id":"x"}),
    ] {
        let e = r.on_text("b", &frame(f), 20);
        let got = frames_for(&e, "b");
        assert_eq!(got[0]["code"], "forbidden");
        assert_eq!(got[0]["client_id"], "x");
        assert!(frames_for(&e, "a").is_empty());
    }
    for seq in [0, 2, 99] {
        let e = r.on_text("a", &frame(json!({"type":"edit","seq":seq,"text":"t"})), 20);
        assert_eq!(frames_for(&e, "a")[0]["code"], "not_found");
    }
    let e = r.on_text("a", &frame(json!({"type":"edit","seq":1,"text":"  "})), 20);
    assert_eq!(frames_for(&e, "a")[0]["code"], "invalid_text");
    assert_eq!(r.last_rev(), 1);
    assert!(!r.has_pending());
    // The same name in another tab is the author.
    r.join("a2".into(), &name("ANN"), None, 0);
    let e = r.on_text(
        "a2",
        &frame(json!({"type":"edit","seq":1,"text":"from tab 2"})),
        30,
    );
    assert_eq!(frames_for(&e, "b")[0]["message"]["text"], "from tab 2");
}

#[test]
fn a_delete_leaves_a_tombstone_and_keeps_seqs_gapless() {
    let mut r = ann_and_bo();
    r.on_text(
        "b",
        &frame(json!({"type":"react","seq":1,"emoji":"👍"})),
        15,
    );
    let e = r.on_text("a", &frame(json!({"type":"delete","seq":1})), 20);
    let f = frames_for(&e, "b");
    assert_eq!(
        f[0]["message"],
        json!({"seq":1,"room":"lobby","name":"Ann","text":"","ts":10,"client_id":"c1",
               "reply_to":null,"deleted":true})
    );
    // Deleting again confirms without a change; editing or reacting to it is refused.
    let e = r.on_text("a", &frame(json!({"type":"delete","seq":1})), 21);
    assert_eq!(types(&frames_for(&e, "a")), ["update"]);
    assert!(frames_for(&e, "b").is_empty());
    let e = r.on_text(
        "a",
        &frame(json!({"type":"edit","seq":1,"text":"back"})),
        22,
    );
    assert_eq!(frames_for(&e, "a")[0]["code"], "not_found");
    let e = r.on_text(
        "b",
        &frame(json!({"type":"react","seq":1,"emoji":"🎉"})),
        22,
    );
    assert_eq!(frames_for(&e, "b")[0]["code"], "not_found");
    let e = send_durable(&mut r, "b", "next", "d1", 30);
    assert_eq!(frames_for(&e, "a")[0]["message"]["seq"], 2);
}

#[test]
fn reactions_toggle_per_name_and_list_who_reacted() {
    let mut r = ann_and_bo();
    let react =
        |emoji: &str, on: bool| frame(json!({"type":"react","seq":1,"emoji":emoji,"on":on}));
    r.on_text("a", &react("👍", true), 11);
    let e = r.on_text("b", &react("👍", true), 12);
    assert_eq!(
        frames_for(&e, "a")[0]["message"]["reactions"],
        json!([{"emoji":"👍","count":2,"names":["Ann","Bo"]}])
    );
    // Twice is once.
    let e = r.on_text("b", &react("👍", true), 13);
    assert!(frames_for(&e, "a").is_empty());
    let e = r.on_text("b", &react("🎉", true), 14);
    assert_eq!(
        frames_for(&e, "a")[0]["message"]["reactions"],
        json!([{"emoji":"👍","count":2,"names":["Ann","Bo"]},{"emoji":"🎉","count":1,"names":["Bo"]}])
    );
    r.on_text("a", &react("👍", false), 15);
    let e = r.on_text("b", &react("👍", false), 16);
    assert_eq!(
        frames_for(&e, "a")[0]["message"]["reactions"],
        json!([{"emoji":"🎉","count":1,"names":["Bo"]}])
    );
    // Removing what is not there changes nothing.
    let e = r.on_text("a", &react("🎉", false), 17);
    assert!(frames_for(&e, "b").is_empty());
    for bad in ["", "ok", "a b", "👍👍👍👍👍👍👍👍👍👍👍"] {
        let e = r.on_text("a", &react(bad, true), 18);
        assert_eq!(frames_for(&e, "a")[0]["code"], "bad_frame", "{bad:?}");
    }
    // At most 20 different emoji on one message.
    let emoji: Vec<String> = (0..21)
        .map(|i| char::from_u32(0x1F600 + i).unwrap().to_string())
        .collect();
    let mut codes = Vec::new();
    for e in &emoji {
        let got = frames_for(&r.on_text("a", &react(e, true), 19), "a");
        codes.push(got[0]["type"].as_str().unwrap().to_owned());
    }
    assert_eq!(codes.iter().filter(|c| *c == "update").count(), 19);
    assert_eq!(codes.last().unwrap(), "error");
}

#[test]
fn replies_count_on_their_parent_and_form_its_thread() {
    let mut r = ann_and_bo();
    send_durable(&mut r, "a", "other", "c2", 11);
    let reply = |text: &str, cid: &str| {
        frame(json!({"type":"send","text":text,"client_id":cid,"reply_to":1}))
    };
    let e = r.on_text("b", &reply("re 1", "r1"), 12);
    let f = frames_for(&e, "a");
    assert_eq!(types(&f), ["message", "update"]);
    assert_eq!(f[1]["message"]["seq"], 1);
    assert_eq!(f[1]["message"]["reply_count"], 1);
    r.on_text("a", &reply("re 2", "r2"), 13);
    // A resend of a reply is not another reply.
    let e = r.on_text("b", &reply("re 1", "r1"), 14);
    assert!(frames_for(&e, "a").is_empty());
    let t = frames_for(
        &r.on_text("b", &frame(json!({"type":"thread","seq":1})), 15),
        "b",
    );
    assert_eq!(t[0]["type"], "thread");
    assert_eq!(t[0]["seq"], 1);
    assert_eq!(seqs_of(&t[0]["messages"]), [3, 4]);
    assert_eq!(t[0]["has_more"], false);
    let t = frames_for(
        &r.on_text(
            "b",
            &frame(json!({"type":"thread","seq":1,"after":3,"limit":1})),
            15,
        ),
        "b",
    );
    assert_eq!(seqs_of(&t[0]["messages"]), [4]);
    let t = frames_for(
        &r.on_text("b", &frame(json!({"type":"thread","seq":2})), 15),
        "b",
    );
    assert_eq!(seqs_of(&t[0]["messages"]), Vec::<u64>::new());
    let t = frames_for(
        &r.on_text("b", &frame(json!({"type":"thread","seq":9})), 15),
        "b",
    );
    assert_eq!(t[0]["code"], "not_found");
    let h = frames_for(&r.on_text("b", r#"{"type":"history"}"#, 16), "b");
    assert_eq!(h[0]["messages"][0]["reply_count"], 2);
    assert_eq!(h[0]["messages"][1].get("reply_count"), None);
}

#[test]
fn a_resume_with_rev_brings_older_messages_that_changed() {
    let mut r = ann_and_bo();
    send_durable(&mut r, "a", "two", "c2", 11);
    send_durable(&mut r, "a", "three", "c3", 12);
    // Bo was away after seeing seq 3 at rev 3.
    r.leave("b", 13);
    r.on_text("a", &frame(json!({"type":"edit","seq":2,"text":"TWO"})), 14);
    r.on_text("a", &frame(json!({"type":"delete","seq":1})), 15);
    send_durable(&mut r, "a", "four", "c4", 16);
    let f = frames_for(
        &r.resume("b".into(), &name("Bo"), "bo", Some(3), Some(3), 17),
        "b",
    );
    assert_eq!(f[0]["rev"], 6);
    assert_eq!(seqs_of(&f[0]["messages"]), [4]);
    // In the order they changed, each as it is now.
    assert_eq!(seqs_of(&f[0]["updates"]), [2, 1]);
    assert_eq!(f[0]["updates"][0]["text"], "TWO");
    assert_eq!(f[0]["updates"][1]["deleted"], true);
    assert_eq!(f[0].get("updates_truncated"), None);
    // Nothing changed since: no updates; v1 resumes (no rev) never get any.
    r.leave("b", 18);
    let f = frames_for(
        &r.resume("b".into(), &name("Bo"), "bo", Some(4), Some(6), 19),
        "b",
    );
    assert_eq!(f[0].get("updates"), None);
    r.leave("b", 18);
    let f = frames_for(&r.join("b".into(), &name("Bo"), Some(3), 19), "b");
    assert_eq!(f[0].get("updates"), None);
}

#[test]
fn changes_logged_before_a_crash_reach_the_history_database_after_it() {
    let mut r = ann_and_bo();
    r.on_text(
        "a",
        &frame(json!({"type":"edit","seq":1,"text":"edited"})),
        20,
    );
    let log = r.log().clone(); // crash: the edit (rev 2) logged, never written to D1
    let r = Room::open("lobby", log, Limits::default()).unwrap();
    let pending = r.pending();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].0, 2);
    assert_eq!(pending[0].1.text, "edited");
    assert_eq!(r.last_rev(), 2);
}

#[test]
fn reactions_count_every_claim_list_the_first_few_and_mark_the_viewers_own() {
    let mut r = ann_and_bo();
    r.set_bounds(Bounds {
        reaction_names: 3,
        ..Bounds::default()
    });
    let react =
        |emoji: &str, on: bool| frame(json!({"type":"react","seq":1,"emoji":emoji,"on":on}));
    for i in 0..8 {
        let conn = format!("x{i}");
        r.join(conn.as_str().into(), &name(&format!("x{i}")), None, 11);
        r.on_text(&conn, &react("👍", true), 12);
    }
    let e = r.on_text("b", &react("👍", true), 13);
    let f = frames_for(&e, "a");
    // Nine reacted: the count is exact, the names are the first three.
    assert_eq!(
        f[0]["message"]["reactions"],
        json!([{"emoji":"👍","count":9,"names":["x0","x1","x2"]}])
    );
    // The broadcast says whose reaction changed; it marks nothing as anyone's.
    assert_eq!(
        f[0]["reaction"],
        json!({"emoji":"👍","name":"Bo","on":true})
    );
    // A page for Bo marks Bo's reaction, though Bo is not among the names listed.
    let e = r.on_text("b", &frame(json!({"type":"history","limit":10})), 14);
    let page = &frames_for(&e, "b")[0];
    assert_eq!(page["messages"][0]["reactions"][0]["mine"], true);
    let e = r.on_text("a", &frame(json!({"type":"history","limit":10})), 14);
    assert_eq!(
        frames_for(&e, "a")[0]["messages"][0]["reactions"][0].get("mine"),
        None
    );
    // So does a welcome, and the answer to a reaction that changes nothing.
    let w = frames_for(&r.join("b2".into(), &name("Bo"), None, 15), "b2");
    assert_eq!(w[0]["messages"][0]["reactions"][0]["mine"], true);
    let e = r.on_text("b", &react("👍", true), 16);
    assert_eq!(
        frames_for(&e, "b")[0]["message"]["reactions"][0]["mine"],
        true
    );
    assert!(frames_for(&e, "a").is_empty());
    // Taking back one's own reaction works whether or not one is listed.
    let e = r.on_text("b", &react("👍", false), 17);
    assert_eq!(
        frames_for(&e, "a")[0]["message"]["reactions"],
        json!([{"emoji":"👍","count":8,"names":["x0","x1","x2"]}])
    );
    let e = r.on_text("x0", &react("👍", false), 18);
    assert_eq!(
        frames_for(&e, "a")[0]["message"]["reactions"],
        json!([{"emoji":"👍","count":7,"names":["x1","x2","x3"]}])
    );
    // The log stores the message without anyone's mark.
    let stored = r.log().get(1).unwrap().unwrap().message;
    assert!(stored.reactions.iter().all(|x| !x.mine));
    // Deleting the message forgets who reacted.
    r.on_text("a", &frame(json!({"type":"delete","seq":1})), 19);
    assert!(r.log().reactions.is_empty());
}

#[test]
fn welcome_and_history_frames_stay_within_the_budget_and_page_the_rest() {
    let mut r = room();
    r.join("a".into(), &name("Ann"), None, 0);
    let long = "é".repeat(4000);
    for i in 0..60 {
        send_durable(&mut r, "a", &long, &format!("c{i}"), i);
    }
    let budget = r.bounds().frame_budget;
    let e = r.join("b".into(), &name("Bo"), None, 100);
    let (w, text) = e
        .iter()
        .find_map(|e| match e {
            Effect::Send { to, frame } if to.includes("b") => {
                Some((serde_json::from_str::<Value>(frame).unwrap(), frame.len()))
            }
            _ => None,
        })
        .unwrap();
    assert!(text <= budget, "{text} > {budget}");
    let shown = seqs_of(&w["messages"]);
    assert!(shown.len() < 50 && !shown.is_empty());
    assert_eq!(*shown.last().unwrap(), 60, "the welcome keeps the newest");
    assert_eq!(w["has_more"], true);
    // Scrolling back pages through every message exactly once, each frame in budget.
    let mut seen = shown.clone();
    let mut before = shown[0];
    loop {
        let e = r.on_text(
            "b",
            &frame(json!({"type":"history","before":before,"limit":100})),
            101,
        );
        let Some(Effect::Send { frame: text, .. }) = e.first() else {
            panic!("no answer");
        };
        assert!(text.len() <= budget);
        let page: Value = serde_json::from_str(text).unwrap();
        let seqs = seqs_of(&page["messages"]);
        assert!(!seqs.is_empty());
        before = seqs[0];
        seen.extend(seqs);
        if page["has_more"] == false {
            break;
        }
    }
    seen.sort();
    assert_eq!(seen, (1..=60).collect::<Vec<_>>());
    // A resume keeps the oldest it missed and says more follow.
    let e = r.join("c".into(), &name("Cy"), Some(0), 102);
    let w = &frames_for(&e, "c")[0];
    assert_eq!(seqs_of(&w["messages"])[0], 1);
    assert_eq!(w["has_more"], true);
}
