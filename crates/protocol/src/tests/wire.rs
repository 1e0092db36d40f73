//! Client frames on the wire: the JSON a client sends for every variant, byte for byte,
//! and that it reads back as the same frame.

use crate::*;

/// One frame of every variant, each optional field both given and left out, with the
/// JSON a client sends for it today: keys in byte order (as `serde_json` writes an
/// object it builds), optional fields left out when they are none.
fn golden_frames() -> Vec<(ClientFrame, &'static str)> {
    let cid = |s: &str| ClientId::parse(s).unwrap();
    let text = |s: &str| MessageText::parse(s).unwrap();
    let name = |s: &str| Name::parse(s).unwrap();
    let emoji = |s: &str| Emoji::parse(s).unwrap();
    vec![
        (
            ClientFrame::Send {
                text: text("hi \"there\" é\u{1}"),
                client_id: cid("c-1"),
                reply_to: Some(3),
                attachment: Some("f1".into()),
            },
            r#"{"attachment":"f1","client_id":"c-1","reply_to":3,"text":"hi \"there\" é\u0001","type":"send"}"#,
        ),
        (
            ClientFrame::Send {
                text: text("plain"),
                client_id: cid("c-2"),
                reply_to: None,
                attachment: None,
            },
            r#"{"client_id":"c-2","text":"plain","type":"send"}"#,
        ),
        (
            ClientFrame::Typing { on: true },
            r#"{"on":true,"type":"typing"}"#,
        ),
        (
            ClientFrame::Typing { on: false },
            r#"{"on":false,"type":"typing"}"#,
        ),
        (
            ClientFrame::Status {
                status: Status::Online,
            },
            r#"{"status":"online","type":"status"}"#,
        ),
        (
            ClientFrame::Status {
                status: Status::Away,
            },
            r#"{"status":"away","type":"status"}"#,
        ),
        (
            ClientFrame::Status {
                status: Status::Dnd,
            },
            r#"{"status":"dnd","type":"status"}"#,
        ),
        (
            ClientFrame::History {
                page: Page::Newest { limit: 7 },
            },
            r#"{"limit":7,"type":"history"}"#,
        ),
        (
            ClientFrame::History {
                page: Page::Before {
                    before: 9,
                    limit: 100,
                },
            },
            r#"{"before":9,"limit":100,"type":"history"}"#,
        ),
        (
            ClientFrame::History {
                page: Page::After { after: 0, limit: 1 },
            },
            r#"{"after":0,"limit":1,"type":"history"}"#,
        ),
        (
            ClientFrame::Edit {
                seq: 4,
                text: text("fixed"),
                client_id: Some(cid("e-1")),
            },
            r#"{"client_id":"e-1","seq":4,"text":"fixed","type":"edit"}"#,
        ),
        (
            ClientFrame::Edit {
                seq: 4,
                text: text("fixed"),
                client_id: None,
            },
            r#"{"seq":4,"text":"fixed","type":"edit"}"#,
        ),
        (
            ClientFrame::Delete {
                seq: 4,
                client_id: Some(cid("d-1")),
            },
            r#"{"client_id":"d-1","seq":4,"type":"delete"}"#,
        ),
        (
            ClientFrame::Delete {
                seq: 4,
                client_id: None,
            },
            r#"{"seq":4,"type":"delete"}"#,
        ),
        (
            ClientFrame::React {
                seq: 2,
                emoji: emoji("👍🏽"),
                on: false,
                client_id: None,
            },
            r#"{"emoji":"👍🏽","on":false,"seq":2,"type":"react"}"#,
        ),
        (
            ClientFrame::React {
                seq: 2,
                emoji: emoji("❤️"),
                on: true,
                client_id: Some(cid("r-1")),
            },
            r#"{"client_id":"r-1","emoji":"❤️","on":true,"seq":2,"type":"react"}"#,
        ),
        (
            ClientFrame::Thread {
                seq: 2,
                after: Some(5),
                limit: 10,
            },
            r#"{"after":5,"limit":10,"seq":2,"type":"thread"}"#,
        ),
        (
            ClientFrame::Thread {
                seq: 2,
                after: None,
                limit: 50,
            },
            r#"{"limit":50,"seq":2,"type":"thread"}"#,
        ),
        (
            ClientFrame::Kick {
                name: name("  Ann   Lee "),
            },
            r#"{"name":"Ann Lee","type":"kick"}"#,
        ),
        (
            ClientFrame::Ban {
                name: name("Bob"),
                minutes: 60,
                reason: None,
            },
            r#"{"minutes":60,"name":"Bob","type":"ban"}"#,
        ),
        (
            ClientFrame::Ban {
                name: name("Bob"),
                minutes: 525_600,
                reason: Some("spam".into()),
            },
            r#"{"minutes":525600,"name":"Bob","reason":"spam","type":"ban"}"#,
        ),
        (
            ClientFrame::Unban { name: name("Bob") },
            r#"{"name":"Bob","type":"unban"}"#,
        ),
        (
            ClientFrame::Appoint { name: name("Zoë") },
            r#"{"name":"Zoë","type":"appoint"}"#,
        ),
        (
            ClientFrame::Dismiss { name: name("Zoë") },
            r#"{"name":"Zoë","type":"dismiss"}"#,
        ),
        (ClientFrame::Read { seq: 17 }, r#"{"seq":17,"type":"read"}"#),
        (
            ClientFrame::Pin {
                seq: 3,
                on: true,
                client_id: None,
            },
            r#"{"seq":3,"type":"pin"}"#,
        ),
        (
            ClientFrame::Pin {
                seq: 3,
                on: false,
                client_id: Some(ClientId::parse("u-1").unwrap()),
            },
            r#"{"client_id":"u-1","seq":3,"type":"unpin"}"#,
        ),
    ]
}

#[test]
fn client_frames_encode_to_the_bytes_clients_send() {
    for (frame, golden) in golden_frames() {
        assert_eq!(frame.encode(), golden, "{frame:?}");
    }
}

#[test]
fn every_client_frame_round_trips() {
    for (frame, golden) in golden_frames() {
        let decoded = ClientFrame::decode(golden);
        assert_eq!(decoded.frame.as_ref(), Ok(&frame), "{golden}");
        let cid = match &frame {
            ClientFrame::Send { client_id, .. } => Some(client_id.as_str()),
            ClientFrame::Edit { client_id, .. }
            | ClientFrame::Delete { client_id, .. }
            | ClientFrame::React { client_id, .. }
            | ClientFrame::Pin { client_id, .. } => client_id.as_ref().map(|c| c.as_str()),
            _ => None,
        };
        assert_eq!(decoded.client_id.as_deref(), cid, "{golden}");
    }
}

#[test]
fn encoded_client_frames_decode_to_themselves() {
    let frames = [
        ClientFrame::Send {
            text: MessageText::parse("hi \"there\"").unwrap(),
            client_id: ClientId::parse("c-1").unwrap(),
            reply_to: Some(3),
            attachment: Some("f1".into()),
        },
        ClientFrame::Send {
            text: MessageText::parse("plain").unwrap(),
            client_id: ClientId::parse("c-2").unwrap(),
            reply_to: None,
            attachment: None,
        },
        ClientFrame::Typing { on: true },
        ClientFrame::Status {
            status: Status::Dnd,
        },
        ClientFrame::History {
            page: Page::Newest { limit: 7 },
        },
        ClientFrame::History {
            page: Page::Before {
                before: 9,
                limit: 100,
            },
        },
        ClientFrame::History {
            page: Page::After { after: 0, limit: 1 },
        },
        ClientFrame::Edit {
            seq: 4,
            text: MessageText::parse("fixed").unwrap(),
            client_id: Some(ClientId::parse("e-1").unwrap()),
        },
        ClientFrame::Delete {
            seq: 4,
            client_id: None,
        },
        ClientFrame::React {
            seq: 2,
            emoji: Emoji::parse("👍🏽").unwrap(),
            on: false,
            client_id: None,
        },
        ClientFrame::Thread {
            seq: 2,
            after: Some(5),
            limit: 10,
        },
        ClientFrame::Thread {
            seq: 2,
            after: None,
            limit: 50,
        },
    ];
    for frame in frames {
        let text = frame.encode();
        assert_eq!(
            ClientFrame::decode(&text).frame.as_ref(),
            Ok(&frame),
            "{text}"
        );
    }
}

#[test]
fn serde_reads_and_writes_client_frames_through_the_wire_form() {
    for (frame, golden) in golden_frames() {
        let text = serde_json::to_string(&frame).unwrap();
        let back: ClientFrame = serde_json::from_str(&text).unwrap();
        assert_eq!(back, frame, "{text}");
        assert_eq!(serde_json::from_str::<ClientFrame>(golden).unwrap(), frame);
        // The same fields as the golden, whatever their order.
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            serde_json::from_str::<serde_json::Value>(golden).unwrap()
        );
    }
    // Deserializing validates: no invalid frame exists past the edge.
    let err = serde_json::from_str::<ClientFrame>(r#"{"type":"send","text":" ","client_id":"c"}"#)
        .unwrap_err();
    assert!(err.to_string().contains("the message is empty"), "{err}");
    assert!(
        serde_json::from_str::<ClientFrame>(r#"{"type":"ban","name":"x","minutes":0}"#).is_err()
    );
}
