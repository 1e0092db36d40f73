//! How long `ClientFrame::decode` takes for the frames on the path of every message: a
//! figure to compare before and after a change, not a pass or fail (run it with
//! `cargo test --release -p edgechat-protocol --test decode_timing -- --ignored --nocapture`).

use std::time::Instant;

use edgechat_protocol::ClientFrame;

#[test]
#[ignore = "prints a timing; run by hand"]
fn decode_timing() {
    let frames = [
        r#"{"client_id":"c-1a2b3c4d","reply_to":12,"text":"hello there, how is everyone today?","type":"send"}"#,
        r#"{"on":true,"type":"typing"}"#,
        r#"{"seq":41,"type":"read"}"#,
        r#"{"client_id":"r-9","emoji":"👍","on":true,"seq":40,"type":"react"}"#,
        r#"{"type":"send","text":"  ","client_id":"c-2"}"#,
    ];
    const ROUNDS: u32 = 200_000;
    for text in frames {
        let mut ok = 0u32;
        let start = Instant::now();
        for _ in 0..ROUNDS {
            ok += u32::from(
                std::hint::black_box(ClientFrame::decode(std::hint::black_box(text)))
                    .frame
                    .is_ok(),
            );
        }
        let ns = start.elapsed().as_nanos() / u128::from(ROUNDS);
        println!("{ns:>6} ns/decode ({ok} ok) {text}");
    }
}
