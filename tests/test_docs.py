"""The docs name only things that exist, so they cannot rot silently.

Every repository path, markdown link (and its #anchor), `boxoffice.*` or `tests.*` module,
`BOXOFFICE_*` setting and `boxoffice ...` command-line flag named in README.md and docs/*.md is
checked against the tree, the Settings model and the Typer app. Nothing is run: the checks read
files, find modules and introspect objects.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import typer.main
from pydantic import AliasChoices, AliasPath, BaseModel
from typer.core import TyperCommand, TyperGroup, TyperOption

from boxoffice.settings import Settings

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# Dated runs keep the names of their day; only their links must resolve.
RESULTS = sorted((REPO / "bench" / "results").glob("*.md"))

# A token whose first segment is one of these is a path from the repository root.
ROOT_DIRS = ("src", "tests", "docs", "scripts", "deploy", "frontend", "bench", ".ci")
# Built, installed or created at run time, never committed: named in the docs, absent from a fresh clone.
BUILT = ("frontend/dist", ".venv", ".boxoffice", "pgdata", "test-artifacts")
SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".boxoffice", ".mypy_cache", ".ruff_cache"}
# Extensions that make a token with a slash a file path rather than prose ("GET/POST").
FILE_EXT = re.compile(r"\.(py|md|toml|json|ya?ml|ts|tsx|mjs|js|sh|cfg|conf|ini|lock|sql|html|css|txt)$")
PATH_TOKEN = re.compile(r"^[\w.*-]+(?:/[\w.*-]*)+$")
BARE_FILE = re.compile(r"^[\w-]+\.(py|md)$")

INLINE_CODE = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
MODULE = re.compile(r"(?<![\w./-])(?:boxoffice|tests)(?:\.[A-Za-z_]\w*)+")
SETTING = re.compile(r"\bBOXOFFICE_[A-Z0-9_]*")
COMMAND = re.compile(r"(?:^|[\s(`])(?:\.venv/bin/|\./)?(boxoffice|scripts/[a-z]+)((?:[ \t]+[^\s|;&]+)*)", re.M)
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


@dataclass(frozen=True)
class Doc:
    path: Path
    text: str

    @property
    def name(self) -> str:
        return str(self.path.relative_to(REPO))

    def code(self) -> Iterator[str]:
        """Inline code spans and the lines of fenced blocks: where paths, commands and flags are named."""
        prose = FENCE.sub("", self.text)
        for block in FENCE.finditer(self.text):
            yield from block.group(1).splitlines()
        yield from INLINE_CODE.findall(prose)


def load_docs(paths: list[Path] = DOCS) -> list[Doc]:
    return [Doc(p, p.read_text(encoding="utf-8")) for p in paths]


@cache
def tree() -> tuple[frozenset[str], frozenset[str]]:
    """Every file and directory under the repository (relative, '/'-separated), dependencies excluded."""
    files: set[str] = set()
    dirs: set[str] = set()
    for root, subdirs, names in os.walk(REPO):
        subdirs[:] = [d for d in subdirs if d not in SKIP_DIRS]
        rel = Path(root).relative_to(REPO).as_posix()
        if rel != ".":
            dirs.add(rel)
        files.update(n if rel == "." else f"{rel}/{n}" for n in names)
    return frozenset(files), frozenset(dirs)


def path_exists(token: str) -> bool:
    """A root-anchored path must exist as named; a shorter one must be the tail of a real path."""
    files, dirs = tree()
    token = token.rstrip("/")
    if token.startswith(BUILT):
        return True
    anchored = token.split("/", 1)[0] in ROOT_DIRS
    candidates = files | dirs
    if "*" in token:
        pattern = re.compile(("" if anchored else r"(?:^|.*/)") + re.escape(token).replace(r"\*", "[^/]*") + "$")
        return any(pattern.match(c) for c in candidates)
    if anchored:
        return token in candidates or (token.startswith("bench/") and f"src/boxoffice/{token}" in candidates)
    return any(c == token or c.endswith("/" + token) for c in candidates)


def path_tokens(span: str) -> Iterator[str]:
    for raw in re.split(r"[\s,;:()\[\]=\"'|]+", span):
        token = raw.removeprefix("./").rstrip(".")
        token = token.split("#", 1)[0]
        if not token or "://" in token or token.startswith(("/", "~", "$", "-")) or "..." in token:
            continue
        if PATH_TOKEN.match(token):
            first = token.split("/", 1)[0]
            if first in ROOT_DIRS or FILE_EXT.search(token) or token.endswith("/"):
                yield token
        elif BARE_FILE.match(token):
            yield token


def test_every_named_path_exists() -> None:
    missing = [
        f"{doc.name}: `{token}`"
        for doc in load_docs()
        for span in doc.code()
        for token in path_tokens(span)
        if not path_exists(token)
    ]
    assert not missing, "paths named in the docs that do not exist:\n" + "\n".join(sorted(set(missing)))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found: set[str] = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def test_every_link_and_anchor_resolves() -> None:
    broken: list[str] = []
    for doc in load_docs(DOCS + RESULTS):
        for target in LINK.findall(FENCE.sub("", doc.text)):
            if re.match(r"^[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            dest = (doc.path.parent / file).resolve() if file else doc.path
            if not dest.exists():
                broken.append(f"{doc.name}: ({target}) -> no such file")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{doc.name}: ({target}) -> no such heading")
    assert not broken, "broken links in the docs:\n" + "\n".join(broken)


def module_exists(dotted: str) -> bool:
    """`boxoffice.a.b` (or `tests.a.b`) is a module, or an attribute of the longest module prefix.

    A named module itself is found, not imported: `python -m` targets run nothing here."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        name = ".".join(parts[:i])
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if found and i == len(parts):
            return True
        if found:
            obj: object = importlib.import_module(name)
            for attr in parts[i:]:
                if not hasattr(obj, attr):
                    return False
                obj = getattr(obj, attr)
            return True
    return False


def test_every_named_module_exists() -> None:
    missing = sorted(
        {f"{doc.name}: {m}" for doc in load_docs() for m in MODULE.findall(doc.text) if not module_exists(m)}
    )
    assert not missing, "modules named in the docs that do not exist:\n" + "\n".join(missing)


def env_names(model: type[BaseModel], prefix: str) -> set[str]:
    """Environment names of a settings model: prefix + field name, or its aliases; nested models too."""
    names: set[str] = set()
    for field_name, field in model.model_fields.items():
        aliases: list[str | AliasPath] = []
        for alias in (field.validation_alias, field.alias):
            if isinstance(alias, AliasChoices):
                aliases.extend(alias.choices)
            elif alias is not None:
                aliases.append(alias)
        names.update(a.upper() for a in aliases if isinstance(a, str))
        names.add(f"{prefix}{field_name}".upper())
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= env_names(annotation, prefix)
            names |= env_names(annotation, f"{prefix}{field_name}_")
    return names


@cache
def setting_names() -> frozenset[str]:
    return frozenset(env_names(Settings, str(Settings.model_config.get("env_prefix", ""))))


@cache
def environment_reads() -> str:
    """Source that may read a BOXOFFICE_* variable outside Settings (bench, tests, scripts, CI)."""
    texts = []
    for top in ("src", "tests", "scripts", ".ci", "deploy", "frontend"):
        for root, subdirs, names in os.walk(REPO / top):
            subdirs[:] = [d for d in subdirs if d not in SKIP_DIRS and d != "dist"]
            for name in names:
                path = Path(root) / name
                if path != Path(__file__).resolve() and path.suffix not in {".pyc", ".png", ".svg", ".ico"}:
                    texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(texts)


def setting_known(name: str) -> bool:
    """A setting of the model; a prefix (`BOXOFFICE_HTTP_*`) of some setting; or a variable the code reads."""
    if name.endswith("_"):
        return any(s.startswith(name) for s in setting_names())
    return name in setting_names() or re.search(rf"\b{name}\b", environment_reads()) is not None


def test_every_named_setting_exists() -> None:
    missing = sorted(
        {f"{doc.name}: {s}" for doc in load_docs() for s in SETTING.findall(doc.text) if not setting_known(s)}
    )
    assert not missing, "settings named in the docs that do not exist:\n" + "\n".join(missing)


Command = TyperCommand | TyperGroup


@cache
def cli() -> Command:
    from boxoffice.cli import app

    command = typer.main.get_command(app)
    assert isinstance(command, TyperGroup)
    return command


def resolve(words: list[str]) -> Command | None:
    """The (sub)command the leading words name, or None when they name none."""
    command = cli()
    for word in words:
        if not isinstance(command, TyperGroup):
            break
        sub = command.commands.get(word)
        if not isinstance(sub, TyperCommand | TyperGroup):
            break
        command = sub
    return None if command is cli() else command


def options(command: Command) -> set[str]:
    names = {"--help"}
    for param in command.params:
        if isinstance(param, TyperOption):
            names.update(o for o in (*param.opts, *param.secondary_opts) if o.startswith("--"))
    return names


def test_every_named_cli_flag_exists() -> None:
    wrong: list[str] = []
    for doc in load_docs():
        for span in doc.code():
            for program, rest in COMMAND.findall(span.split(" #", 1)[0]):
                flags = FLAG.findall(rest)
                if not flags:
                    continue
                if program == "scripts/serve":
                    program, rest = "boxoffice", " serve" + rest
                if program == "boxoffice":
                    command = resolve(rest.split())
                    if command is None:
                        wrong.append(f"{doc.name}: `boxoffice{rest}` names no command")
                        continue
                    known = options(command)
                    wrong += [f"{doc.name}: `boxoffice {command.name}` has no {f}" for f in flags if f not in known]
                else:
                    script = REPO / program
                    text = script.read_text(encoding="utf-8") if script.exists() else ""
                    wrong += [f"{doc.name}: `{program}` has no {f}" for f in flags if f not in text]
    assert not wrong, "command lines in the docs that do not exist:\n" + "\n".join(sorted(set(wrong)))


@pytest.mark.parametrize(
    ("token", "exists"),
    [
        ("src/boxoffice/storage/seats.py", True),
        ("storage/seats.py", True),
        ("src/boxoffice/storage/no_such.py", False),
        ("api/no_such.py", False),
        ("no_such_module.py", False),
        ("tests/booking/", True),
    ],
)
def test_the_path_check_tells_real_from_renamed(token: str, exists: bool) -> None:
    assert path_exists(token) is exists


def test_the_other_checks_tell_real_from_renamed() -> None:
    assert list(path_tokens("GET/POST holds, 3/4 of seats")) == []
    assert module_exists("boxoffice.storage.db") and not module_exists("boxoffice.storage.no_such")
    assert setting_known("BOXOFFICE_DB_POOL_MAX") and not setting_known("BOXOFFICE_NO_SUCH_SETTING")
    serve = resolve(["serve"])
    assert serve is not None and "--workers" in options(serve) and "--no-such-flag" not in options(serve)
