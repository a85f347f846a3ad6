//! `--redis-url`: the grader uses a Redis it did not start, and leaves it as it found it.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A redis-server owned by the test, standing in for a shared server.
struct SharedRedis {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl SharedRedis {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be installed to run the tests");
        let redis = Self { child, port, _dir: dir };
        for _ in 0..100 {
            if redis.ping() {
                return redis;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the test's redis-server did not start");
    }

    fn ping(&self) -> bool {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}", self.port)).unwrap();
        client
            .get_connection()
            .is_ok_and(|mut conn| redis::cmd("PING").query::<String>(&mut conn).is_ok())
    }

    fn keys_in_every_database(&self) -> Vec<String> {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}", self.port)).unwrap();
        let mut conn = client.get_connection().unwrap();
        let mut all = Vec::new();
        for db in 0..16 {
            redis::cmd("SELECT").arg(db).query::<()>(&mut conn).unwrap();
            let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut conn).unwrap();
            all.extend(keys.into_iter().map(|key| format!("{db}/{key}")));
        }
        all.sort();
        all
    }
}

impl Drop for SharedRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn grading_against_an_external_redis_keeps_other_keys_and_leaves_none_behind() {
    let shared = SharedRedis::start();
    // Somebody else's data, in every database the grader might pick.
    let client = redis::Client::open(format!("redis://127.0.0.1:{}", shared.port)).unwrap();
    let mut conn = client.get_connection().unwrap();
    for db in 0..16 {
        redis::cmd("SELECT").arg(db).query::<()>(&mut conn).unwrap();
        redis::cmd("SET").arg("someone-elses-key").arg("precious").query::<()>(&mut conn).unwrap();
    }
    let before = shared.keys_in_every_database();

    let solutions = common::root().join("solutions");
    let url = format!("redis://127.0.0.1:{}/0", shared.port);
    let run = {
        let _one_at_a_time = common::serial();
        common::grade(31, &["--path", solutions.to_str().unwrap(), "--redis-url", &url, "1"])
    };

    assert_eq!(
        shared.keys_in_every_database(),
        before,
        "the grader must leave other keys alone and clean up its own"
    );
    assert!(run.json["redis"].as_str().unwrap().contains("external"), "{}", run.json["redis"]);
    // Everything but the outage criteria is gradable on a shared server ...
    let exercise = run.exercise("01-redis-setup");
    for criterion in exercise["criteria"].as_array().unwrap() {
        let expected = match criterion["id"].as_str().unwrap() {
            "survives-outage" | "reconnects" => "error",
            _ => "passed",
        };
        assert_eq!(criterion["status"], expected, "{criterion}");
    }
    // ... and the outage criteria say why they could not be graded.
    assert!(run.explain("01-redis-setup").contains("only does to a Redis it started itself"));
}
