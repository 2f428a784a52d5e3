//! Conversation locks and identify pacing through a real Redis
//! (DUET_TEST_REDIS_URL).

use std::time::{Duration, Instant};

use duet_testkit::test_redis::TestRedis;

use crate::coord_limits::coordinator;

#[tokio::test]
async fn a_conversation_lock_admits_one_holder_across_processes() {
    let Some(redis) = TestRedis::from_env("lock-one") else {
        return;
    };
    let (a, b) = (coordinator(&redis).await, coordinator(&redis).await);
    let ttl = Duration::from_secs(30);
    let held = a.lock_conversation("user:1").await.unwrap();
    assert!(b.try_lock("user:1", ttl, ttl).await.unwrap().is_none());
    assert!(
        b.try_lock("user:2", ttl, ttl).await.unwrap().is_some(),
        "per conversation"
    );

    let waiter = tokio::spawn({
        let b = b.clone();
        async move { b.lock_conversation("user:1").await.map(drop) }
    });
    assert!(
        held.release().await.unwrap(),
        "the holder deletes its own lock"
    );
    waiter
        .await
        .unwrap()
        .expect("the waiter gets the lock once it is released");
}

#[tokio::test]
async fn a_lock_whose_holder_died_expires() {
    let Some(redis) = TestRedis::from_env("lock-dead") else {
        return;
    };
    let a = coordinator(&redis).await;
    // A process that died holding the lock: nobody renews or releases it.
    let key = a.key("lock", "user:1");
    let _: () = redis.query(redis::cmd("SET").arg(&key).arg("dead").arg("PX").arg(300));
    let lock = a
        .lock_conversation("user:1")
        .await
        .expect("taken after the expiry");
    let holder: String = redis.query(redis::cmd("GET").arg(&key));
    assert_ne!(holder, "dead");
    drop(lock);
}

#[tokio::test]
async fn a_holder_never_deletes_a_lock_that_is_no_longer_its_own() {
    let Some(redis) = TestRedis::from_env("lock-cad") else {
        return;
    };
    let a = coordinator(&redis).await;
    let short = Duration::from_millis(200);
    let lock = a
        .lock_with("user:1", short, Duration::from_secs(3600))
        .await
        .unwrap();
    let key = a.key("lock", "user:1");
    // The lock expires unrenewed; another process takes it.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let taken: Option<String> = redis.query(
            redis::cmd("SET")
                .arg(&key)
                .arg("other")
                .arg("NX")
                .arg("PX")
                .arg(30_000),
        );
        if taken.is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "the lock never expired");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!lock.release().await.unwrap(), "not ours any more");
    let holder: String = redis.query(redis::cmd("GET").arg(&key));
    assert_eq!(holder, "other", "the other holder's lock stays");
}

#[tokio::test]
async fn a_held_lock_is_renewed_past_its_expiry() {
    let Some(redis) = TestRedis::from_env("lock-renew") else {
        return;
    };
    let a = coordinator(&redis).await;
    let lock = a
        .lock_with(
            "user:1",
            Duration::from_millis(300),
            Duration::from_millis(100),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    let key = a.key("lock", "user:1");
    let exists: i64 = redis.query(redis::cmd("EXISTS").arg(&key));
    assert_eq!(exists, 1, "renewed while held");
    assert!(lock.release().await.unwrap());
    let exists: i64 = redis.query(redis::cmd("EXISTS").arg(&key));
    assert_eq!(exists, 0);
}

#[tokio::test]
async fn identify_is_paced_per_bucket_across_processes() {
    let Some(redis) = TestRedis::from_env("identify") else {
        return;
    };
    let (a, b) = (coordinator(&redis).await, coordinator(&redis).await);
    let spacing = Duration::from_millis(400);
    let started = Instant::now();
    a.acquire_identify_every(0, spacing).await.unwrap();
    b.acquire_identify_every(1, spacing).await.unwrap();
    assert!(started.elapsed() < spacing, "another bucket does not wait");
    b.acquire_identify_every(0, spacing).await.unwrap();
    assert!(
        started.elapsed() >= spacing - Duration::from_millis(20),
        "the second identify in bucket 0 waited for the first's spacing: {:?}",
        started.elapsed()
    );
    let ttl: i64 = redis.query(redis::cmd("PTTL").arg(a.key("identify", "0")));
    assert!(ttl > 0, "the bucket is held after the second identify too");
}
