//! The files under `deploy/` agree with the code: YAML parses, every
//! environment variable is a key duet knows, the bundled `config.ini` is
//! valid, ports and paths line up across Dockerfile, Compose, Prometheus and
//! Kubernetes, probes hit the real health endpoints, and the systemd unit
//! reloads with SIGHUP and may write where the database lives.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use duet::config::Config;
use duet::config::schema::KEYS;
use duet::ops::{LIVE_PATH, METRICS_PATH, READY_PATH};
use serde_yaml::Value;

fn deploy(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(deploy(path)).unwrap_or_else(|e| panic!("deploy/{path}: {e}"))
}

fn yaml(path: &str) -> Value {
    serde_yaml::from_str(&read(path)).unwrap_or_else(|e| panic!("deploy/{path}: {e}"))
}

fn str_of<'a>(value: &'a Value, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {value:?}"))
}

/// A YAML scalar (string or number) as text.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// Whether duet reads this environment variable.
fn known(name: &str) -> bool {
    name == "RUST_LOG"
        || KEYS
            .iter()
            .any(|spec| spec.key == name || spec.env_aliases.contains(&name))
}

fn assert_known(names: &[String], place: &str) {
    assert!(!names.is_empty(), "{place} lists no variables");
    let unknown: Vec<&String> = names.iter().filter(|n| !known(n)).collect();
    assert!(
        unknown.is_empty(),
        "{place} names unknown keys: {unknown:?}"
    );
}

/// The one line of `.env.example` that is not a duet key: the password the
/// scale-out compose file creates its PostgreSQL with.
const COMPOSE_ONLY_SECRET: &str = "POSTGRES_PASSWORD";

fn secret_keys() -> Vec<String> {
    KEYS.iter()
        .filter(|spec| spec.secret)
        .map(|spec| spec.key.to_string())
        .collect()
}

/// The Dockerfile's instructions of the final stage, continuation lines joined.
struct Dockerfile {
    instructions: Vec<(String, String)>,
}

impl Dockerfile {
    fn load() -> Self {
        let text = read("Dockerfile").replace("\\\n", " ");
        let all: Vec<(String, String)> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once(char::is_whitespace))
            .map(|(op, rest)| (op.to_uppercase(), rest.trim().to_string()))
            .collect();
        let last_from = all.iter().rposition(|(op, _)| op == "FROM").expect("FROM");
        Self {
            instructions: all[last_from..].to_vec(),
        }
    }

    fn all(&self, op: &str) -> Vec<&str> {
        self.instructions
            .iter()
            .filter(|(o, _)| o == op)
            .map(|(_, rest)| rest.as_str())
            .collect()
    }

    fn one(&self, op: &str) -> &str {
        let found = self.all(op);
        assert_eq!(found.len(), 1, "one {op} in the runtime stage");
        found[0]
    }

    fn env(&self) -> BTreeMap<String, String> {
        self.all("ENV")
            .iter()
            .flat_map(|rest| rest.split_whitespace())
            .map(|pair| {
                let (k, v) = pair.split_once('=').expect("ENV KEY=value");
                (k.to_string(), v.to_string())
            })
            .collect()
    }

    fn json_array(&self, op: &str) -> Vec<String> {
        serde_json::from_str(self.one(op)).unwrap_or_else(|e| panic!("{op} exec form: {e}"))
    }

    /// The value after `--config` in ENTRYPOINT.
    fn config_path(&self) -> String {
        let entrypoint = self.json_array("ENTRYPOINT");
        let at = entrypoint
            .iter()
            .position(|a| a == "--config")
            .expect("ENTRYPOINT passes --config");
        entrypoint[at + 1].clone()
    }
}

/// The health port the deploy files agree on (the Dockerfile's).
fn health_port(dockerfile: &Dockerfile) -> String {
    dockerfile.env()["HEALTH_PORT"].clone()
}

/// The directory of a DATABASE_PATH value.
fn data_dir(database_path: &str) -> PathBuf {
    Path::new(database_path)
        .parent()
        .expect("DATABASE_PATH has a directory")
        .to_path_buf()
}

#[test]
fn the_dockerfile_exposes_the_health_port_and_checks_liveness() {
    let docker = Dockerfile::load();
    let env = docker.env();
    assert_known(&env.keys().cloned().collect::<Vec<_>>(), "Dockerfile ENV");
    let port = health_port(&docker);
    assert_eq!(docker.one("EXPOSE"), port);
    assert_eq!(env["HEALTH_HOST"], "0.0.0.0", "reachable from outside");
    let healthcheck = docker.one("HEALTHCHECK");
    let url = healthcheck
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("HEALTHCHECK requests a URL");
    let url = url::Url::parse(url).unwrap();
    assert_eq!(url.path(), LIVE_PATH);
    assert_eq!(url.port().map(|p| p.to_string()), Some(port));
    assert_eq!(
        docker.json_array("VOLUME"),
        [data_dir(&env["DATABASE_PATH"]).display().to_string()]
    );
    assert_eq!(docker.config_path(), "/config/config.ini");
    assert!(docker.one("USER") != "root", "runs as a non-root user");
    assert_eq!(docker.json_array("CMD"), ["run"]);
    let ignored = read("Dockerfile.dockerignore");
    for kept_out in ["target", "deploy/.env"] {
        assert!(
            ignored.lines().any(|l| l.trim() == kept_out),
            "{kept_out} stays out of the build context"
        );
    }
}

/// The workspace's members, from `members = [...]` in the root Cargo.toml.
fn workspace_members() -> Vec<String> {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("the root Cargo.toml");
    let line = manifest
        .lines()
        .find(|l| l.trim_start().starts_with("members"))
        .expect("a [workspace] members list on one line");
    line.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn the_image_build_copies_every_workspace_member() {
    // Cargo reads every member's manifest even to build only the bot.
    let build = read("Dockerfile");
    let members = workspace_members();
    assert!(members.contains(&"testkit".to_string()), "{members:?}");
    for member in members {
        assert!(
            build
                .lines()
                .any(|l| l.trim() == format!("COPY {member} ./{member}")),
            "deploy/Dockerfile does not copy the workspace member {member}"
        );
    }
}

#[test]
fn compose_names_only_known_keys_and_maps_the_same_port_paths_and_secrets() {
    let docker = Dockerfile::load();
    let port = health_port(&docker);
    let compose = yaml("docker-compose.yml");
    let duet = &compose["services"]["duet"];
    let env: BTreeMap<String, String> = duet["environment"]
        .as_mapping()
        .expect("environment as a mapping")
        .iter()
        .map(|(k, v)| (scalar(k), scalar(v)))
        .collect();
    assert_known(
        &env.keys().cloned().collect::<Vec<_>>(),
        "compose environment",
    );
    assert_eq!(env["HEALTH_PORT"], port);
    assert_eq!(env["HEALTH_HOST"], "0.0.0.0");
    let ports: Vec<String> = duet["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(scalar)
        .collect();
    assert!(
        ports
            .iter()
            .any(|p| p.rsplit(':').next() == Some(port.as_str())),
        "compose publishes the container's {port}: {ports:?}"
    );
    let mounts: Vec<String> = duet["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(scalar)
        .collect();
    let targets: Vec<&str> = mounts.iter().filter_map(|m| m.split(':').nth(1)).collect();
    assert!(
        targets.contains(&docker.config_path().as_str()),
        "{mounts:?}"
    );
    let data = data_dir(&env["DATABASE_PATH"]);
    assert!(targets.contains(&data.to_str().unwrap()), "{mounts:?}");
    assert!(
        mounts.iter().any(|m| m.ends_with("/config/config.ini:ro")),
        "config mounted read-only: {mounts:?}"
    );
    assert_eq!(str_of(&duet["env_file"], "env_file"), ".env");
    assert!(duet["restart"].is_string() && duet["mem_limit"].is_string());

    let grace: u64 = default_of("SHUTDOWN_GRACE_SECS").parse().unwrap();
    let stop = str_of(&duet["stop_grace_period"], "stop_grace_period");
    let stop: u64 = stop.trim_end_matches('s').parse().unwrap();
    assert!(
        stop > grace,
        "compose waits longer than SHUTDOWN_GRACE_SECS"
    );

    let prometheus = &compose["services"]["prometheus"];
    let prometheus_mount = scalar(&prometheus["volumes"][0]);
    let source = prometheus_mount.split(':').next().unwrap();
    assert!(
        deploy(source).exists(),
        "{source} exists next to the compose file"
    );
}

#[test]
fn the_env_example_and_the_kubernetes_secret_hold_exactly_the_secret_keys() {
    let env_names: Vec<String> = read(".env.example")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_once('=').expect("KEY=value").0.to_string())
        .filter(|name| name != COMPOSE_ONLY_SECRET)
        .collect();
    assert_known(&env_names, "deploy/.env.example");
    let secret = yaml("kubernetes/secret.example.yaml");
    assert_eq!(secret["kind"], "Secret");
    let mut secret_names: Vec<String> = secret["stringData"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(scalar)
        .collect();
    assert_known(&secret_names, "the Kubernetes Secret");
    let mut expected = secret_keys();
    expected.sort();
    secret_names.sort();
    let mut env_sorted = env_names.clone();
    env_sorted.sort();
    assert_eq!(secret_names, expected);
    assert_eq!(env_sorted, expected);
}

#[test]
fn prometheus_scrapes_the_metrics_path_on_the_health_port() {
    let port = health_port(&Dockerfile::load());
    let prometheus = yaml("prometheus.yml");
    let job = &prometheus["scrape_configs"][0];
    assert_eq!(str_of(&job["metrics_path"], "metrics_path"), METRICS_PATH);
    let target = str_of(&job["static_configs"][0]["targets"][0], "target");
    let (host, target_port) = target.split_once(':').expect("host:port");
    assert_eq!(target_port, port);
    let compose = yaml("docker-compose.yml");
    assert!(
        compose["services"].get(host).is_some(),
        "{host} is a compose service"
    );
}

/// The ConfigMap's `config.ini`, parsed by duet.
fn configmap_config() -> Config {
    let map = yaml("kubernetes/configmap.yaml");
    assert_eq!(map["kind"], "ConfigMap");
    let text = str_of(&map["data"]["config.ini"], "config.ini");
    let config = Config::parse(text, Path::new("/config/config.ini"), &HashMap::new())
        .unwrap_or_else(|e| panic!("the ConfigMap's config.ini: {e}"));
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    config
}

#[test]
fn the_kubernetes_deployment_probes_mounts_and_ports_agree_with_the_code() {
    let docker = Dockerfile::load();
    let config = configmap_config();
    let port = config.health.port.to_string();
    assert_eq!(port, health_port(&docker));
    assert_eq!(config.health.host, "0.0.0.0");

    let deployment = yaml("kubernetes/deployment.yaml");
    assert_eq!(deployment["kind"], "Deployment");
    assert_eq!(deployment["spec"]["replicas"], 1);
    let pod = &deployment["spec"]["template"];
    let spec = &pod["spec"];
    let container = &spec["containers"][0];
    let env: Vec<String> = container["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| scalar(&e["name"]))
        .collect();
    assert_known(&env, "the Deployment's env");

    let port_name = scalar(&container["ports"][0]["name"]);
    assert_eq!(scalar(&container["ports"][0]["containerPort"]), port);
    for (probe, path) in [("livenessProbe", LIVE_PATH), ("readinessProbe", READY_PATH)] {
        let get = &container[probe]["httpGet"];
        assert_eq!(str_of(&get["path"], probe), path);
        assert_eq!(scalar(&get["port"]), port_name, "{probe} port");
    }
    let annotations = &pod["metadata"]["annotations"];
    assert_eq!(scalar(&annotations["prometheus.io/port"]), port);
    assert_eq!(scalar(&annotations["prometheus.io/path"]), METRICS_PATH);

    let mount = |name: &str| -> PathBuf {
        let found = container["volumeMounts"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("a {name} mount"));
        PathBuf::from(scalar(&found["mountPath"]))
    };
    assert_eq!(
        mount("config").join("config.ini"),
        PathBuf::from(docker.config_path())
    );
    assert!(
        config.memory.database_path.starts_with(mount("data")),
        "the database lives on the volume"
    );

    let volume = |name: &str| -> Value {
        spec["volumes"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("a {name} volume"))
    };
    let configmap = yaml("kubernetes/configmap.yaml");
    assert_eq!(
        volume("config")["configMap"]["name"],
        configmap["metadata"]["name"]
    );
    let claim = yaml("kubernetes/pvc.yaml");
    assert_eq!(claim["kind"], "PersistentVolumeClaim");
    assert_eq!(
        volume("data")["persistentVolumeClaim"]["claimName"],
        claim["metadata"]["name"]
    );
    let secret = yaml("kubernetes/secret.example.yaml");
    assert_eq!(
        container["envFrom"][0]["secretRef"]["name"],
        secret["metadata"]["name"]
    );
    for resources in ["requests", "limits"] {
        assert!(
            container["resources"][resources]["memory"].is_string(),
            "memory {resources}"
        );
    }
    let grace: u64 = default_of("SHUTDOWN_GRACE_SECS").parse().unwrap();
    let termination = spec["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(
        termination > grace,
        "Kubernetes waits longer than SHUTDOWN_GRACE_SECS"
    );
}

#[test]
fn every_kubernetes_file_is_yaml_with_a_kind() {
    let dir = deploy("kubernetes");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let name = format!("kubernetes/{}", path.file_name().unwrap().to_string_lossy());
            let doc = yaml(&name);
            assert!(
                doc["apiVersion"].is_string() && doc["kind"].is_string(),
                "{name}"
            );
            seen += 1;
        }
    }
    assert_eq!(
        seen, 6,
        "deployment, configmap, secret example, pvc, statefulset and its service"
    );
}

/// The value of `name` in a container's `env` list.
fn env_value(container: &Value, name: &str) -> String {
    container["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .map(|e| scalar(&e["value"]))
        .unwrap_or_else(|| panic!("the container sets {name}"))
}

#[test]
fn the_kubernetes_statefulset_gives_each_pod_its_own_shards_from_its_ordinal() {
    let set = yaml("kubernetes/statefulset.yaml");
    assert_eq!(set["kind"], "StatefulSet");
    assert_eq!(set["spec"]["podManagementPolicy"], "OrderedReady");
    let service = yaml("kubernetes/statefulset-service.yaml");
    assert_eq!(set["spec"]["serviceName"], service["metadata"]["name"]);
    assert_eq!(service["spec"]["clusterIP"], "None");
    let pod = &set["spec"]["template"];
    assert_eq!(
        pod["metadata"]["labels"]["app"],
        set["spec"]["selector"]["matchLabels"]["app"]
    );
    assert_eq!(
        service["spec"]["selector"]["app"],
        pod["metadata"]["labels"]["app"]
    );
    let container = &pod["spec"]["containers"][0];
    let names: Vec<String> = container["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| scalar(&e["name"]))
        .collect();
    assert_known(&names, "the StatefulSet's env");
    let secret = yaml("kubernetes/secret.example.yaml");
    assert_eq!(
        container["envFrom"][0]["secretRef"]["name"],
        secret["metadata"]["name"]
    );
    let port_name = scalar(&container["ports"][0]["name"]);
    for (probe, path) in [("livenessProbe", LIVE_PATH), ("readinessProbe", READY_PATH)] {
        let get = &container[probe]["httpGet"];
        assert_eq!(str_of(&get["path"], probe), path);
        assert_eq!(scalar(&get["port"]), port_name, "{probe} port");
    }
    // The pods share PostgreSQL and Redis: no volume of their own.
    assert_eq!(env_value(container, "MEMORY_BACKEND"), "postgres");
    assert!(set["spec"].get("volumeClaimTemplates").is_none());
    let secret_keys = secret["stringData"].as_mapping().unwrap();
    for key in ["DATABASE_URL", "REDIS_URL"] {
        assert!(
            secret_keys.contains_key(key),
            "the secret example holds {key}"
        );
    }

    // Each pod, named as the StatefulSet names it, runs the shards its
    // ordinal selects: together every shard once.
    let replicas = set["spec"]["replicas"].as_u64().unwrap();
    let total: u32 = env_value(container, "SHARD_COUNT").parse().unwrap();
    let mut served = Vec::new();
    for ordinal in 0..replicas {
        let mut env: HashMap<String, String> = ["SHARD_COUNT", "SHARD_IDS", "SHARDS_PER_PROCESS"]
            .iter()
            .map(|name| (name.to_string(), env_value(container, name)))
            .collect();
        let host = format!("{}-{ordinal}", scalar(&set["metadata"]["name"]));
        env.insert("HOSTNAME".into(), host.clone());
        let config = Config::from_env(&env).unwrap_or_else(|e| panic!("{host}: {e}"));
        let plan = config
            .discord
            .shards
            .plan(1)
            .unwrap_or_else(|e| panic!("{host}: {e}"));
        assert_eq!(plan.total, total);
        served.extend(plan.ids());
    }
    assert_eq!(
        served,
        (0..total).collect::<Vec<_>>(),
        "every shard exactly once"
    );
}

fn default_of(key: &str) -> &'static str {
    KEYS.iter()
        .find(|spec| spec.key == key)
        .unwrap_or_else(|| panic!("{key} is a key"))
        .default
}

/// `[Service]` settings of the systemd unit; repeated keys keep every value.
fn systemd_service() -> Vec<(String, String)> {
    let text = read("duet.service");
    let mut section = String::new();
    let mut settings = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[') {
            section = name.trim_end_matches(']').to_string();
        } else if section == "Service" {
            let (k, v) = line.split_once('=').expect("Key=value");
            settings.push((k.to_string(), v.to_string()));
        }
    }
    settings
}

#[test]
fn the_systemd_unit_reloads_with_sighup_restarts_on_failure_and_may_write_its_database() {
    let unit = systemd_service();
    let get = |key: &str| -> Vec<&str> {
        unit.iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let reload = get("ExecReload").join(" ");
    assert!(
        reload.contains("-HUP") && reload.contains("$MAINPID"),
        "{reload}"
    );
    assert_eq!(get("Restart"), ["on-failure"]);
    assert_eq!(get("NoNewPrivileges"), ["true"]);
    assert_eq!(get("ProtectSystem"), ["strict"]);
    assert_eq!(get("EnvironmentFile").len(), 1);
    assert!(get("ExecStart").join(" ").contains(" run"));

    let env: Vec<(String, String)> = get("Environment")
        .iter()
        .map(|e| {
            let (k, v) = e.split_once('=').expect("Environment=KEY=value");
            (k.to_string(), v.to_string())
        })
        .collect();
    assert_known(
        &env.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        "the unit's Environment",
    );
    let database = &env
        .iter()
        .find(|(k, _)| k == "DATABASE_PATH")
        .expect("DATABASE_PATH is set")
        .1;
    let writable: Vec<PathBuf> = get("ReadWritePaths")
        .iter()
        .flat_map(|v| v.split_whitespace())
        .map(|p| PathBuf::from(p.trim_start_matches('-')))
        .collect();
    let dir = data_dir(database);
    assert!(
        writable.iter().any(|w| dir.starts_with(w)),
        "{dir:?} is not under ReadWritePaths {writable:?}"
    );

    let grace: u64 = default_of("SHUTDOWN_GRACE_SECS").parse().unwrap();
    let stop: u64 = get("TimeoutStopSec")[0].parse().unwrap();
    assert!(
        stop > grace,
        "systemd waits longer than SHUTDOWN_GRACE_SECS"
    );
}

#[test]
fn the_scale_compose_file_runs_postgres_redis_and_replicas_that_share_the_shards() {
    let compose = yaml("docker-compose.scale.yml");
    let services = compose["services"].as_mapping().unwrap();
    for store in ["postgres", "redis"] {
        assert!(
            compose["services"][store]["healthcheck"].is_mapping(),
            "{store} has a health check"
        );
        assert!(
            compose["services"][store].get("ports").is_none(),
            "{store} publishes no port"
        );
    }
    let password = scalar(&compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"]);
    assert!(password.contains(COMPOSE_ONLY_SECRET), "{password}");
    assert!(read(".env.example").contains(&format!("{COMPOSE_ONLY_SECRET}=")));

    let mut served = Vec::new();
    let mut host_ports = Vec::new();
    let replicas: Vec<&Value> = services
        .iter()
        .filter(|(name, _)| scalar(name).starts_with("duet"))
        .map(|(_, service)| service)
        .collect();
    assert!(replicas.len() >= 2, "at least two replicas");
    for duet in replicas {
        assert_eq!(str_of(&duet["env_file"], "env_file"), ".env");
        for store in ["postgres", "redis"] {
            assert_eq!(duet["depends_on"][store]["condition"], "service_healthy");
        }
        let env: HashMap<String, String> = duet["environment"]
            .as_mapping()
            .unwrap()
            .iter()
            .map(|(k, v)| (scalar(k), scalar(v)))
            .collect();
        assert_known(
            &env.keys().cloned().collect::<Vec<_>>(),
            "scale compose environment",
        );
        for secret in secret_keys() {
            assert!(!env.contains_key(&secret), "{secret} belongs in .env");
        }
        assert_eq!(env["MEMORY_BACKEND"], "postgres");
        // What deploy/.env adds.
        let mut env = env;
        env.insert(
            "DATABASE_URL".into(),
            "postgres://duet:password@postgres:5432/duet".into(),
        );
        let config = Config::from_env(&env).unwrap_or_else(|e| panic!("{e}"));
        let plan = config.discord.shards.plan(1).unwrap();
        served.extend(plan.ids());
        host_ports.extend(duet["ports"].as_sequence().unwrap().iter().map(scalar));
    }
    served.sort();
    let total: u32 = served.len().try_into().unwrap();
    assert_eq!(served, (0..total).collect::<Vec<_>>(), "every shard once");
    let mut unique = host_ports.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), host_ports.len(), "{host_ports:?}");
}
