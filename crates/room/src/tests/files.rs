//! Uploads: attached once by their uploader, swept when nobody attached them.

use super::*;

#[test]
fn a_file_is_attached_once_by_its_uploader_and_deleted_with_its_message() {
    let mut r = ann_and_bo();
    r.add_file("ann", &file("f1"), 0).unwrap();
    let send = |cid: &str, f: &str| {
        frame(json!({"type":"send","text":"look","client_id":cid,"attachment":f}))
    };
    // Someone else's file, or an unknown one, is not attachable.
    let e = r.on_text("b", &send("b1", "f1"), 20);
    let got = frames_for(&e, "b");
    assert_eq!(got[0]["code"], "not_found");
    assert_eq!(got[0]["client_id"], "b1");
    let e = r.on_text("a", &send("a0", "nope"), 20);
    assert_eq!(frames_for(&e, "a")[0]["code"], "not_found");
    // The uploader attaches it; everyone gets it with the message.
    let e = r.on_text("a", &send("a1", "f1"), 21);
    let m = &frames_for(&e, "b")[0]["message"];
    assert_eq!(m["seq"], 2);
    assert_eq!(
        m["attachment"],
        json!({"id":"f1","filename":"cat.png","content_type":"image/png","size":10})
    );
    // A resend is the same message; another send cannot take the same file.
    let e = r.on_text("a", &send("a1", "f1"), 22);
    assert!(frames_for(&e, "b").is_empty());
    let e = r.on_text("a", &send("a2", "f1"), 22);
    assert_eq!(frames_for(&e, "a")[0]["code"], "not_found");
    assert_eq!(r.last_seq(), 2);
    // Deleting the message drops the file from it and asks the shell to delete it.
    let e = r.on_text("a", &frame(json!({"type":"delete","seq":2})), 23);
    assert!(e.contains(&Effect::DeleteFile { id: "f1".into() }));
    assert_eq!(frames_for(&e, "b")[0]["message"].get("attachment"), None);
}

#[test]
fn unattached_uploads_are_swept_after_their_lifetime_and_attached_ones_stay() {
    let mut r = ann_and_bo();
    r.set_bounds(Bounds {
        upload_ttl_ms: 1000,
        ..Bounds::default()
    });
    assert_eq!(r.next_deadline(), None, "no upload, no alarm");
    r.add_file("ann", &file("kept"), 100).unwrap();
    r.add_file("ann", &file("lost"), 200).unwrap();
    assert_eq!(r.next_deadline(), Some(1100));
    let e = r.on_text(
        "a",
        &frame(json!({"type":"send","text":"here","client_id":"k","attachment":"kept"})),
        300,
    );
    assert_eq!(frames_for(&e, "b")[0]["type"], "message");
    assert!(!r.sweep_due(1099));
    // The attached file is not due; the other is, once its second is up.
    let (ids, _) = r.expired_uploads(1100);
    assert!(ids.is_empty());
    assert_eq!(r.next_deadline(), Some(1200));
    let (ids, _) = r.expired_uploads(1200);
    assert_eq!(ids, ["lost"]);
    // While its bytes are being deleted, nobody can attach it.
    let e = r.on_text(
        "a",
        &frame(json!({"type":"send","text":"late","client_id":"l","attachment":"lost"})),
        1201,
    );
    assert_eq!(frames_for(&e, "a")[0]["code"], "not_found");
    // A failed delete is tried again a minute later; a done one is forgotten.
    r.uploads_swept(&[], &["lost".to_owned()], 1202);
    assert_eq!(r.next_deadline(), Some(1202 + 60_000));
    let (ids, _) = r.expired_uploads(61_202);
    assert_eq!(ids, ["lost"]);
    r.uploads_swept(&["lost".to_owned()], &[], 61_203);
    assert!(r.log().file("lost").unwrap().is_none());
    assert!(r.log().file("kept").unwrap().is_some());
    assert_eq!(r.next_deadline(), None, "nothing left to sweep: no alarm");
}
