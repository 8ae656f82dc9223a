"""The container: read statically here, built and run where a docker daemon answers."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid

import pytest
import yaml

from tests.conftest import ROOT

BUILD_TOOLS = re.compile(r"\b(build-essential|gcc|g\+\+|clang|make|cmake|pkg-config|[a-z0-9-]+-dev)\b")
DOCKER_BUILD_SECONDS = 900


def stages() -> dict[str, list[str]]:
    """The Dockerfile's instructions (continuation lines joined, comments dropped), by stage."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    instructions = re.sub(r"\\\n\s*", " ", text).splitlines()
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in (line.strip() for line in instructions):
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            name = line.split()[-1] if " AS " in line.upper() else f"stage{len(found)}"
            current = found.setdefault(name, [line])
            continue
        current.append(line)
    return found


def final_stage() -> list[str]:
    return list(stages().values())[-1]


def test_the_final_stage_is_slim_non_root_and_has_no_build_tools() -> None:
    every = stages()
    assert len(every) >= 2, "a builder stage and a runtime stage"
    final = final_stage()
    assert final[0].split()[1] == "python:3.11-slim"
    installs = [line for line in final if re.search(r"\b(apt-get|apt|apk|pip)\b.*\binstall\b", line)]
    assert installs == [], "the final stage installs nothing: it copies the builder's venv"
    assert not [line for line in final if BUILD_TOOLS.search(line)]
    assert any(line.startswith("COPY --from=builder ") for line in final)
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users, "the final stage names a user"
    uid = users[-1].split(":")[0]
    assert uid == "10001"
    assert [line for line in final if line.startswith("CMD ")] == ['CMD ["consentbot", "serve"]']
    healthchecks = [line for line in final if line.startswith("HEALTHCHECK ")]
    assert len(healthchecks) == 1
    assert "/healthz" in healthchecks[0]


def test_only_what_the_service_needs_goes_into_the_build_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ignored[ignored.index("*") :][:1] == ["*"], "everything is left out unless listed"
    allowed = {line[1:].rstrip("/") for line in ignored if line.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "src", "content", "locales"}


def test_compose_runs_migrations_then_the_service_on_postgres_15() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["postgres"]["image"] == "postgres:15"
    migrate, service = services["migrate"], services["consentbot"]
    assert migrate["command"] == ["consentbot", "db", "upgrade"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert service["command"] == ["consentbot", "serve"]
    assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for each in (migrate, service):
        assert each["env_file"] == "compose.env"
        url = each["environment"]["CONSENTBOT_DATABASE_URL"]
        assert url.startswith("postgresql+asyncpg://consentbot:${POSTGRES_PASSWORD")
        assert url.endswith("@postgres:5432/consentbot")


def test_every_setting_in_the_compose_example_is_documented() -> None:
    example = (ROOT / "compose.env.example").read_text(encoding="utf-8")
    names = set(re.findall(r"^#? ?(CONSENTBOT_[A-Z_]+)=", example, flags=re.MULTILINE))
    assert "CONSENTBOT_SECRET_KEY" in names
    documented = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert {name for name in names if not is_documented(name, documented)} == set()


def is_documented(name: str, text: str) -> bool:
    """Named in full, or in the table's shorthand (`CONSENTBOT_TWILIO_ACCOUNT_SID`, `_FROM`)."""
    group, _, rest = name.removeprefix("CONSENTBOT_").partition("_")
    return name in text or (f"CONSENTBOT_{group}_" in text and f"`_{rest}`" in text)


def docker_unavailable() -> str | None:
    """Why the image cannot be built here, or None when a daemon answers."""
    docker = shutil.which("docker")
    if docker is None:
        return "no docker command on this machine"
    try:
        info = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True, text=True, timeout=20, check=False,
        )
    except subprocess.TimeoutExpired:
        return "docker info did not answer within 20 s"
    if info.returncode != 0:
        return f"no docker daemon reachable: {(info.stderr.strip().splitlines() or ['?'])[-1]}"
    return None


def docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)


def test_the_image_builds_runs_as_10001_and_has_no_compiler() -> None:
    reason = docker_unavailable()
    if reason is not None:
        pytest.skip(f"the image is not built: {reason}")
    tag = f"consentbot-test:{uuid.uuid4().hex[:12]}"
    built = docker("build", "--tag", tag, str(ROOT), timeout=DOCKER_BUILD_SECONDS)
    assert built.returncode == 0, built.stderr[-4000:]
    try:
        who = docker("run", "--rm", "--entrypoint", "id", tag, "-u")
        assert who.stdout.strip() == "10001", who.stderr
        compilers = docker("run", "--rm", "--entrypoint", "sh", tag, "-c", "command -v gcc cc make || true")
        assert compilers.stdout.strip() == ""
        usage = docker("run", "--rm", tag, "consentbot", "--help")
        assert usage.returncode == 0, usage.stderr
        assert "serve" in usage.stdout
    finally:
        docker("image", "rm", "--force", tag)

