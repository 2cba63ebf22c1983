//! The accept loop over a real socket: a client that never finishes its
//! request head is disconnected, and one that does is served.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use backend::testing::{with_db, Target};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Everything the server sends until it closes the connection. The bound is
/// generous: a server that never closes fails the test instead of hanging it.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut got))
        .await
        .expect("the server kept the connection open")
        .unwrap();
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    with_db(Target::Sqlite, |db| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(server::listen::serve(
            listener,
            common::app(&db),
            Duration::from_millis(300),
            std::future::pending(),
        ));

        // Half a request head, then silence.
        let mut slow = TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: keel.example\r\nX-Slow: ")
            .await
            .unwrap();
        let answer = until_closed(&mut slow).await;
        assert!(!answer.contains("200 OK"), "{answer}");

        // A whole request on the same server is answered.
        let mut client = TcpStream::connect(addr).await.unwrap();
        client
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: keel.example\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let answer = until_closed(&mut client).await;
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");

        // The handlers know the peer: a failed sign-in is counted against
        // the client's address, which the per-address throttle needs.
        let body = "email=nobody%40example.com&password=wrong&next=%2Fcommand";
        let mut client = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "POST /signin HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        client.write_all(request.as_bytes()).await.unwrap();
        let answer = until_closed(&mut client).await;
        assert!(!answer.starts_with("HTTP/1.1 5"), "{answer}");
        let remote: String = sqlx::query_scalar("select remote from sign_in_attempt")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(remote, "127.0.0.1");
    })
    .await;
}
