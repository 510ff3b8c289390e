"""The build engine: a pure-Python ``kustomize build`` (kustomize v5.5 semantics).

The flow mirrors kustomize's KustTarget: for one kustomization, accumulate its
resources (files, then sub-kustomizations built on their own), run its generators,
apply its components to the same accumulator, then run its transformers in kustomize's
fixed order. Only the top-level build adds generator hash suffixes, fixes name
references and sorts.

A directory reached as a resource is built once per Engine and cloned on reuse, so a
fleet render builds each shared base once. Parsed files are cached by content key.
"""

from __future__ import annotations

import marshal
import posixpath
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, NamedTuple

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize import buildmeta, kustfile
from gitops_gen.kustomize.fieldspecs import DEFAULT_CONFIG, Config, parse_config, parse_specs
from gitops_gen.kustomize.kustfile import Kustomization
from gitops_gen.kustomize.resource import IdKey, Origin, ResId, Resource, Step, id_key, split_api_version
from gitops_gen.kustomize.selector import select
from gitops_gen.kustomize.types import ORDER_FIRST, ORDER_LAST
from gitops_gen.repo import yamlio
from gitops_gen.repo.tree import Tree, normalize

PLUGIN_KINDS = frozenset(
    {
        "PatchTransformer",
        "PatchStrategicMergeTransformer",
        "PatchJson6902Transformer",
        "ReplacementTransformer",
        "PrefixSuffixTransformer",
        "LabelTransformer",
        "AnnotationsTransformer",
        "NamespaceTransformer",
        "ImageTagTransformer",
        "ReplicaCountTransformer",
    }
)
REMOTE = re.compile(r"^(https?://|git@|ssh://|git::|github\.com/|gitlab\.com/|bitbucket\.org/)|://")


def clone(obj: Any) -> Any:
    """A deep copy of plain YAML data; marshal round-trips dicts/lists/scalars in C, far faster than deepcopy."""
    return marshal.loads(marshal.dumps(obj))


class ParseCache:
    """Parsed YAML documents keyed by content, shareable between engines (e.g. two git revisions)."""

    def __init__(self) -> None:
        self.docs: dict[bytes, list[Any]] = {}
        self.nulls: dict[bytes, list[list[tuple[tuple[Any, ...], str]]]] = {}

    def null_scalars(self, raw: bytes, display: str) -> list[list[tuple[tuple[Any, ...], str]]]:
        found = self.nulls.get(raw)
        if found is None:
            found = yamlio.null_scalars(raw, display)
            self.nulls[raw] = found
        return found

    def load(self, raw: bytes, display: str) -> list[Any]:
        docs = self.docs.get(raw)
        if docs is None:
            docs = yamlio.load_documents(raw, display)
            self.docs[raw] = docs
        return docs


class Engine:
    """Builds kustomization directories of one Tree. Not thread-safe; one per run."""

    def __init__(
        self,
        tree: Tree,
        *,
        trace: bool = False,
        parse_cache: ParseCache | None = None,
        warnings: bool | str = True,
        on_warning: Callable[[str], None] | None = None,
    ):
        self.tree = tree
        self.trace = trace
        self.warnings = warnings
        # The engine never prints: the caller decides where warnings go (the CLI: stderr).
        self.on_warning = on_warning
        self.parse_cache = parse_cache or ParseCache()
        self._kusts: dict[str, Kustomization] = {}
        # Results are kept frozen (one marshal blob per list): compact, and one C call to copy.
        self._built: dict[str, Frozen] = {}
        self._components: dict[tuple[Any, ...], tuple[Frozen, Config]] = {}
        self._twins: dict[tuple[str, tuple[str, ...], tuple[str, ...], str], tuple[Frozen, Config]] = {}
        # Each built directory's transformer config (builtin specs + every `configurations` it reached).
        self._configs: dict[str, Config] = {}
        self._warned: set[str] = set()
        self.collected: list[str] = []  # warnings, in the order they arose
        self.files_read: set[str] = set()
        # The top kustomization's buildMetadata options while origins are tracked (None: off), and
        # where the kustomization being built sits relative to the directory being accumulated.
        self._meta: frozenset[str] | None = None
        self._prefix = ""
        # The compact table of the built kustomization's custom openapi schema (None: Kubernetes').
        self._schema: dict[str, Any] | None = None
        # Built directories another engine lends (its ``lend``) instead of this one building them: diff's
        # head side takes those whose inputs are the same at both revisions from the base side.
        self.lender: Callable[[str], tuple[Frozen, Config] | None] | None = None

    def parsed(self, directory: str, raw: bytes) -> dict[str, Any] | None:
        """The kustomization of DIRECTORY as this engine parsed it, if it parsed exactly RAW (no copy:
        for readers only)."""
        kust = self._kusts.get(directory)
        return kust.data if kust is not None and kust.raw == raw else None

    def lend(self, directory: str) -> tuple[Frozen, Config] | None:
        """DIRECTORY as this engine built it (a resource directory), with its transformer config."""
        built = self._built.get(directory)
        return None if built is None else (built, self._configs.get(directory, DEFAULT_CONFIG))

    # ------------------------------------------------------------------ public API
    def build(self, directory: str) -> list[Resource]:
        """Everything `kustomize build DIRECTORY` would output, in output order."""
        root = normalize(directory)
        if root is None:
            raise GitopsGenError("path escapes the repository", directory)
        # kustomize's root is the directory with its symlinks resolved; `../x` is relative to that.
        root = kustfile.canonical(self.tree, root)
        kust = self._kustomization(root, None)
        if self._meta is None and self._schema is None:
            special = self._special(kust)
            if special is not None:
                return special.build(directory)
        from gitops_gen.kustomize.openapi import custom_schema

        with custom_schema(self._schema):
            return self._build(root, kust)

    def _build(self, root: str, kust: Kustomization) -> list[Resource]:
        resources = self._accumulate_cached(root, ())
        config = self._configs.get(root, DEFAULT_CONFIG)
        from gitops_gen.kustomize.builtins import generators, nameref

        with self._blame(kust, None):
            generators.add_hash_suffixes(resources)
            self._record(resources, Origin(kust.path, "generator", field="hash"))
            nameref.fix_name_references(resources, config)
            self._record(resources, Origin(kust.path, "transformer", field="nameReference"))
            if config.vars:
                from gitops_gen.kustomize.builtins import vars as kvars

                kvars.resolve(resources, config)
                self._record(resources, Origin(kust.path, "transformer", field="vars"))
        resources = [r for r in resources if not _is_local(r)]
        for res in resources:
            if self._meta is not None:
                buildmeta.finish(res.obj, self._meta)
            strip_build_annotations(res.obj, keep=self._meta is not None)
        order = kust.data.get("sortOptions", {}) or {}
        if order.get("order", "legacy") == "legacy":
            resources.sort(key=legacy_sort_key(order.get("legacySortOptions")))
        if self._meta is not None and buildmeta.MANAGED_BY_OPTION in self._meta:
            buildmeta.label_managed(resources)
        return resources

    def _special(self, kust: Kustomization) -> Engine | None:
        """An engine of its own for a build whose kustomization has buildMetadata or a custom openapi schema.

        Both change every step below (origins are tracked from the start; strategic merges use
        the schema), so results must not mix with this engine's cached ones.
        """
        options = kust.data.get("buildMetadata")
        schema = self._openapi(kust)
        if not options and schema is None:
            return None
        engine = Engine(self.tree, trace=self.trace, parse_cache=self.parse_cache, warnings=self.warnings)
        engine.on_warning, engine._warned, engine.collected = self.on_warning, self._warned, self.collected
        engine._kusts, engine.files_read = self._kusts, self.files_read
        engine._meta = frozenset(options) if options else None
        engine._schema = schema
        return engine

    def _below(self, kust: Kustomization, via: tuple[Kustomization, str, int] | None) -> None:
        """A custom openapi schema in a base decides only when the built kustomization has none: refused."""
        spec = kust.data.get("openapi")
        if via is None or self._schema is not None or not isinstance(spec, dict):
            return
        from gitops_gen.kustomize.openapi import KUSTOMIZE_VERSION

        if spec.get("version", KUSTOMIZE_VERSION) != KUSTOMIZE_VERSION:
            raise kust.error("the specified OpenAPI version is not built in", "openapi", "version")
        if "path" in spec:
            raise kust.error(
                f"not supported: openapi in {kust.path}, below the kustomization built (kustomize "
                "applies it or not depending on what it built before; move it to the top)",
                "openapi",
            )

    def _openapi(self, kust: Kustomization) -> dict[str, Any] | None:
        """The custom schema table of KUST's `openapi: {path: FILE}`; None without one.

        kustomize sets its schema once per build, globally: from the kustomization built, else
        from whichever base it loads first, so only the first case has one answer.
        """
        from gitops_gen.kustomize import openapi

        spec = kust.data.get("openapi")
        if not spec:
            return None
        unknown = set(spec) - {"path", "version"}
        if unknown:
            raise kust.error(f"not supported: openapi.{sorted(unknown)[0]} in {kust.path}", "openapi")
        if "version" in spec and "path" in spec:
            raise kust.error("builtin version and custom schema provided, cannot use both", "openapi")
        if spec.get("version", openapi.KUSTOMIZE_VERSION) != openapi.KUSTOMIZE_VERSION:
            raise kust.error("the specified OpenAPI version is not built in", "openapi", "version")
        if "path" not in spec:
            return None
        path = self._file_in_root(kust, spec["path"], "openapi", "path")  # type: ignore[arg-type]
        display = self.tree.display(path)
        docs = self._docs(path)
        return openapi.custom_table(docs[0] if docs else None, display)

    def render(self, directory: str) -> str:
        from gitops_gen.repo import emit

        return emit.dump_all([r.obj for r in self.build(directory)])

    # ------------------------------------------------------------------ loading
    def _read(self, path: str) -> bytes:
        self.files_read.add(path)
        return self.tree.read(path)

    def _docs(self, path: str) -> list[Any]:
        """Parsed documents of a file; callers must clone before mutating."""
        return self.parse_cache.load(self._read(path), self.tree.display(path))

    def _kustomization(self, directory: str, via: tuple[Kustomization, str, int] | None) -> Kustomization:
        kust = self._kusts.get(directory)
        if kust is not None:
            return kust
        path = kustfile.find(self.tree, directory)
        if path is None:
            msg = f"no kustomization.yaml in {self.tree.display(directory)}"
            linked = [
                n for n in kustfile.FILE_NAMES if self.tree.kind(posixpath.join(directory, n)) == "file"
            ]
            if linked:
                # kustomize's loader reads it through the load restrictor, which refuses it unseen.
                msg += f" ({linked[0]} is a symlink leading out of the directory, which kustomize ignores)"
            if via is not None:
                parent, key, index = via
                raise parent.error(msg, key, index)
            raise GitopsGenError(msg, self.tree.display(directory))
        kust = kustfile.load(self.tree, directory, self._read(path), path)
        kust.path = self.tree.display(path)
        kust.file_name = posixpath.basename(path)
        if self.warnings:
            for message in kustfile.deprecations(kust):
                # Like kustomize, once per kustomization; a fleet render says each thing once
                # ("once"), or leaves the saying to its caller ("collect", parallel workers).
                token = message if self.warnings in ("once", "collect") else f"{kust.path}\0{message}"
                if token not in self._warned:
                    self._warned.add(token)
                    self.collected.append(message)
                    if self.warnings != "collect" and self.on_warning is not None:
                        self.on_warning(message)
        self._kusts[directory] = kust
        return kust

    def _resolve(self, kust: Kustomization, entry: Any, key: str, index: int) -> str:
        if not isinstance(entry, str) or not entry:
            raise kust.error(f"{key}[{index}] must be a non-empty string", key, index)
        if REMOTE.search(entry):
            raise kust.error(
                f"not supported: remote {key} {entry!r} in {kust.path} (gitops-gen never "
                "reaches the network)",
                key,
                index,
            )
        if entry.startswith("/"):
            raise kust.error(f"absolute path {entry!r} not allowed", key, index)
        path = normalize(entry, kust.dir)
        if path is None:
            raise kust.error(f"{key} entry {entry!r} escapes the repository", key, index)
        return path

    def _restrict(self, kust: Kustomization, entry: Any, path: str, where: tuple[str | int, ...]) -> None:
        """kustomize's default load restrictor: a file, symlinks resolved, is in or below the kustomization's root."""
        real = kustfile.canonical(self.tree, path)
        if not kustfile.in_root(real, kust.dir):
            through = "" if real == path else f" (through a symlink to {self.tree.display(real)!r})"
            raise kust.error(
                f"security; file {entry!r} is not in or below {self.tree.display(kust.dir)!r}{through}",
                *where,
            )

    def _file_in_root(self, kust: Kustomization, entry: Any, key: str, index: int, *sub: str | int) -> str:
        """A file a kustomization names, checked by the load restrictor."""
        path = self._resolve(kust, entry, key, index)
        kind = self.tree.kind(path)
        if kind == "file":
            self._restrict(kust, entry, path, (key, index, *sub))
        if kind != "file":
            raise kust.error(
                f"{key}: file {entry!r} not found" if kind is None else f"{key}: {entry!r} must be a file",
                key,
                index,
                *sub,
            )
        return path

    # ------------------------------------------------------------------ accumulation
    def _accumulate_cached(
        self, directory: str, chain: tuple[str, ...], via: tuple[Kustomization, str, int] | None = None
    ) -> list[Resource]:
        # Real paths too (as kustomize compares them): a symlink back up the tree is a cycle as well.
        real = getattr(self.tree, "real_path", None)
        here = real(directory) if real is not None else directory
        for visited in chain:
            there = real(visited) if real is not None else visited
            if (
                visited == directory
                or directory == ""
                or visited.startswith(directory + "/")
                or there == here
                or there.startswith(here + "/")
            ):
                msg = (
                    f"cycle detected: {self.tree.display(directory) or '.'} contains or is "
                    f"{self.tree.display(visited)}"
                )
                if via is not None:
                    raise via[0].error(msg, via[1], via[2])
                raise GitopsGenError(msg)
        built = self._built.get(directory)
        if built is None and self.lender is not None:
            lent = self.lender(directory)
            if lent is not None:
                built, self._configs[directory] = lent
                self._built[directory] = built
        if built is None:
            kust = self._kustomization(directory, via)
            self._below(kust, via)
            # kustomize builds a Component given on the command line like a Kustomization;
            # only a resources entry naming one is refused.
            if kust.is_component and via is not None:
                msg = f"{kust.path} is a Component; it can only be used under components:"
                raise via[0].error(msg, via[1], via[2])
            # Generated variants of one app with the same components build the same thing:
            # everything they name is relative to their shared parent directory.
            twin = None
            entries = [*kust.get_list("resources"), *kust.get_list("components")]
            # Only entries above the directory are the same for siblings; `cm.yaml` is each one's own.
            if kust.simple and not self.trace and all(e.startswith("../") for e in entries):
                twin = (
                    posixpath.dirname(directory),
                    tuple(kust.get_list("resources")),
                    tuple(kust.get_list("components")),
                    str(kust.data.get("namespace") or ""),
                )
                hit = self._twins.get(twin)
                if hit is not None:
                    built, self._configs[directory] = hit
            if built is None:
                # Origins inside a directory are relative to it; the kustomization naming it re-roots them.
                saved, self._prefix = self._prefix, ""
                try:
                    result, config = self._target(kust, [], (*chain, directory), (), DEFAULT_CONFIG)
                finally:
                    self._prefix = saved
                built = freeze(result)
                self._built[directory] = built
                self._configs[directory] = config
                if twin is not None:
                    self._twins[twin] = (built, config)
                return result
            self._built[directory] = built
        return thaw(built)

    def _target(
        self,
        kust: Kustomization,
        ra: list[Resource],
        chain: tuple[str, ...],
        lineage: Lineage,
        config: Config,
    ) -> tuple[list[Resource], Config]:
        """kustomize's accumulateTarget for one kustomization (or component) onto RA.

        LINEAGE names how RA came to be (which directories and files were accumulated and
        which components applied, in order). Within a run each step's result is fixed by
        its inputs, so equal lineages mean equal states: components are memoised on it.
        """
        resources = [*kust.get_list("resources"), *kust.get_list("bases")]
        n_resources = len(kust.get_list("resources"))
        seen = {id_key(r) for r in ra} if resources and ra else set()
        for i, entry in enumerate(resources):
            key, index = ("resources", i) if i < n_resources else ("bases", i - n_resources)
            path = self._accumulate_entry(kust, entry, key, index, ra, chain, seen)
            lineage = (*lineage, ("resource", path))
            if path in self._configs:
                config = config.merge(self._configs[path])
        config = config.merge(self._own_config(kust))

        from gitops_gen.kustomize.builtins import generators

        if kust.data.get("configMapGenerator") or kust.data.get("secretGenerator"):
            lineage = (*lineage, ("generators", kust.dir))
            with self._blame(kust, "configMapGenerator"):
                generated = generators.generate(kust.data, self._reader(kust), kust.path)
                if self._meta is not None:
                    for res in generated:
                        kind = buildmeta.GENERATOR_KINDS.get(res.kind, res.kind)
                        origin = buildmeta.configured(self._here(kust), "builtin", kind)
                        buildmeta.set_origin(res, origin, overwrite=False)
                if self.trace:
                    for res in generated:
                        res.history = []
                        res.record(res.origin)
                generators.absorb(ra, generated)
        if kust.data.get("helmCharts"):
            from gitops_gen.kustomize.builtins import helm

            lineage = (*lineage, ("helm", kust.dir))
            with self._blame(kust, "helmCharts"):
                charts = helm.resources(self.tree, kust, _checked_objects)
                if self._meta is not None:
                    origin = buildmeta.configured(self._here(kust), "builtin", "HelmChartInflationGenerator")
                    for res in charts:
                        buildmeta.set_origin(res, origin, overwrite=False)
                if self.trace:
                    for res in charts:
                        res.history = []
                        res.record(res.origin)
                generators.absorb(ra, charts)
        for i, entry in _inline_first(kust.get_list("generators")):
            lineage = (*lineage, ("plugin-generators", f"{kust.dir}\0{i}"))
            for display, plugin, where in self._plugin_configs(kust, entry, i, "generators"):
                synth = _generator_entry(plugin, display)
                with self._blame(
                    Kustomization(path=display, dir=kust.dir, data=synth, raw=b"", is_component=False), None
                ):
                    generated = generators.generate(synth, self._reader(kust), display)
                    if self._meta is not None:
                        for res in generated:
                            buildmeta.set_origin(res, buildmeta.plugin_origin(plugin, where), overwrite=False)
                    generators.absorb(ra, generated)

        for i, entry in enumerate(kust.get_list("components")):
            path = self._resolve(kust, entry, "components", i)
            if self.tree.kind(path) != "dir":
                raise kust.error(f"component {entry!r} is not a directory", "components", i)
            path = kustfile.canonical(self.tree, path)
            for visited in chain:
                if visited == path or visited.startswith(path + "/") or path == "":
                    raise kust.error(f"cycle detected: component {entry!r}", "components", i)
            comp = self._kustomization(path, (kust, "components", i))
            self._below(comp, (kust, "components", i))
            if not comp.is_component:
                raise kust.error(
                    f"expected kind 'Component' for path {entry!r} but got "
                    f"{comp.data.get('kind') or 'Kustomization'!r}",
                    "components",
                    i,
                )
            saved, self._prefix = self._prefix, buildmeta.join(self._prefix, entry)
            try:
                ra, config = self._component(comp, ra, (*chain, path), lineage, config)
            finally:
                self._prefix = saved
            lineage = (*lineage, ("component", path))

        self._transform(kust, ra, config)
        if kust.get_list("vars"):
            from gitops_gen.kustomize.builtins import vars as kvars

            with self._blame(kust, "vars"):
                declared = kvars.parse_vars(kust.get_list("vars"))
                kvars.attach(ra, declared)
                config = config.merge(replace(DEFAULT_CONFIG, vars=declared))
        return ra, config

    def _component(
        self,
        comp: Kustomization,
        ra: list[Resource],
        chain: tuple[str, ...],
        lineage: Lineage,
        config: Config,
    ) -> tuple[list[Resource], Config]:
        """Apply a component, memoised on its input: clusters that share layers share the work.

        The key is the component's directory plus the lineage of its input, so a hit gives
        exactly what running it would give. Traced builds always run it, to record every step.
        """
        if self.trace or self._meta is not None:
            return self._target(comp, ra, chain, lineage, config)
        # The lineage fixes the accumulated config except for the parent's own `configurations`.
        key: tuple[Any, ...] = (
            (comp.dir, lineage) if config is DEFAULT_CONFIG else (comp.dir, lineage, config)
        )
        hit = self._components.get(key)
        if hit is None:
            ra, config = self._target(comp, ra, chain, lineage, config)
            self._components[key] = (freeze(ra), config)
            return ra, config
        return thaw(hit[0]), hit[1]

    def _accumulate_entry(
        self,
        kust: Kustomization,
        entry: Any,
        key: str,
        index: int,
        ra: list[Resource],
        chain: tuple[str, ...],
        seen: set[IdKey],
    ) -> str:
        """Append what ENTRY names to RA; returns the repo path it resolved to."""
        path = self._resolve(kust, entry, key, index)
        kind = self.tree.kind(path)
        if kind == "file":
            self._restrict(kust, entry, path, (key, index))
            new = self._resources_from_file(path)
            if self._meta is not None:
                for res in new:
                    buildmeta.set_origin(res, {"path": buildmeta.join(self._prefix, entry)})
        elif kind == "dir":
            # A directory is a new root, anywhere (kustomize's loader.New): only files are restricted.
            path = kustfile.canonical(self.tree, path)
            new = self._accumulate_cached(path, chain, (kust, key, index))
            if self._meta is not None:
                buildmeta.reroot(new, buildmeta.join(self._prefix, entry))
        else:
            raise kust.error(f"{key} entry {entry!r}: no such file or directory", key, index)
        append_all(ra, new, seen, lambda msg: kust.error(msg, key, index))
        return path

    def _resources_from_file(self, path: str) -> list[Resource]:
        display = self.tree.display(path)
        out: list[Resource] = []
        nulls: list[list[tuple[tuple[Any, ...], str]]] | None = None
        for i, doc in enumerate(self._docs(path)):
            objs = expand_lists(doc, display)
            for obj in objs:
                check_resource(obj, display)
                res = Resource(obj=clone(obj), origin=Origin(display, "resource", doc=i))
                if objs == [doc] and _has_null_value(doc):
                    if nulls is None:
                        nulls = self.parse_cache.null_scalars(self._read(path), display)
                    found = nulls[i] if i < len(nulls) else []
                    res.bare_nulls = [at for at, text in found if text == ""]
                    _annotation_texts(res.obj, found)
                if self.trace:
                    res.history = [Step(res.origin, clone(obj))]
                out.append(res)
        return out

    def _reader(self, kust: Kustomization) -> Callable[[str], bytes]:
        def read(rel: str) -> bytes:
            return self._read(self._file_in_root(kust, rel, "generator file", 0))

        return read

    # ------------------------------------------------------------------ transformers
    @contextmanager
    def _blame(self, kust: Kustomization, key: str | None, index: int | None = None) -> Iterator[None]:
        """Give errors raised inside a transformer the kustomization file and line responsible."""
        try:
            yield
        except GitopsGenError as err:
            if err.path is None:
                where: list[str | int] = [] if key is None else [key] if index is None else [key, index]
                node_path = getattr(err, "node_path", None)
                if node_path:
                    where = list(node_path)
                line, col = kust.line_of(*where) if where else (None, None)
                raise GitopsGenError(err.message, kust.path, line, col) from None
            raise

    def _record(self, ra: list[Resource], origin: Origin, force: bool = False) -> None:
        if self.trace:
            for res in ra:
                if res.obj:
                    res.record(origin, force)

    def _origin(
        self, kust: Kustomization, key: str, index: int | None = None, sub: str | None = None
    ) -> Origin:
        """A transformer step; its line is the kustomization line that holds the value it sets."""
        line = None
        if self.trace:
            where: list[str | int] = [key] if index is None else [key, index]
            if sub is not None:
                where.append(sub)
            line = kust.line_of(*where)[0]
        return Origin(kust.path, "transformer", field=key, line=line)

    def _own_config(self, kust: Kustomization) -> Config:
        """The builtin field specs merged with this kustomization's `configurations` files."""
        config = DEFAULT_CONFIG
        for i, entry in enumerate(kust.get_list("configurations")):
            path = self._file_in_root(kust, entry, "configurations", i)
            docs = self._docs(path)
            with self._blame(kust, "configurations", i):
                if len(docs) > 1:
                    raise GitopsGenError(
                        "a transformer configuration must be one YAML document", self.tree.display(path)
                    )
                config = config.merge(parse_config(docs[0] if docs else None, self.tree.display(path)))
        for i, entry in enumerate(kust.get_list("crds")):
            from gitops_gen.kustomize import crds

            path = self._file_in_root(kust, entry, "crds", i)
            with self._blame(kust, "crds", i):
                config = config.merge(crds.config_of(crds.parse(self._read(path), self.tree.display(path))))
        return config

    def _here(self, kust: Kustomization) -> str:
        """KUST's file as an origin names it: relative to the kustomization being accumulated."""
        return buildmeta.join(self._prefix, kust.file_name)

    def _transform(self, kust: Kustomization, ra: list[Resource], config: Config, mark: bool = True) -> None:
        """KUST's transformer fields in kustomize's order; MARK: record each builtin's run (buildMetadata)."""
        from gitops_gen.kustomize.builtins import transformers as tf

        def ran(kind: str) -> None:
            if mark and self._meta is not None:
                buildmeta.mark(ra, buildmeta.configured(self._here(kust), "builtin", kind))

        data = kust.data
        for i, entry in enumerate(kust.get_list("patchesStrategicMerge")):
            for origin, patch in self._psm_patches(kust, entry, i):
                with self._blame(kust, "patchesStrategicMerge", i):
                    target = get_by_id(ra, patch_id(patch), origin.path)
                    apply_smp(ra, [target], patch, allow_name=False, allow_kind=False)
                self._record([target], origin, force=True)
            _drop_empties(ra)
        if kust.get_list("patchesStrategicMerge"):
            ran("PatchStrategicMergeTransformer")
        for i, entry in enumerate(kust.get_list("patches")):
            self._patch(kust, entry, i, ra)
            ran("PatchTransformer")
            _drop_empties(ra)
        if data.get("namespace"):
            with self._blame(kust, "namespace"):
                tf.apply_namespace(ra, data["namespace"], config)
            self._record(ra, self._origin(kust, "namespace"))
            ran("NamespaceTransformer")
        if data.get("namePrefix"):
            with self._blame(kust, "namePrefix"):
                tf.apply_name_affix(ra, prefix=data["namePrefix"], config=config)
            self._record(ra, self._origin(kust, "namePrefix"))
            ran("PrefixTransformer")
        if data.get("nameSuffix"):
            with self._blame(kust, "nameSuffix"):
                tf.apply_name_affix(ra, suffix=data["nameSuffix"], config=config)
            self._record(ra, self._origin(kust, "nameSuffix"))
            ran("SuffixTransformer")
        for i, label in enumerate(kust.get_list("labels")):
            unknown = set(label) - {"pairs", "includeSelectors", "includeTemplates", "fields"}
            if unknown:
                raise kust.error(f"unknown field labels[{i}].{sorted(unknown)[0]}", "labels", i)
            pairs = label.get("pairs") or {}
            if not isinstance(pairs, dict):
                raise kust.error("labels[].pairs must be a mapping", "labels", i)
            with self._blame(kust, "labels", i):
                tf.apply_labels(
                    ra,
                    pairs,
                    bool(label.get("includeSelectors")),
                    bool(label.get("includeTemplates")),
                    label.get("fields"),
                    config,
                )
            self._record(ra, self._origin(kust, "labels", i))
            ran("LabelTransformer")
        if data.get("commonLabels"):
            with self._blame(kust, "commonLabels"):
                tf.apply_labels(ra, data["commonLabels"], True, True, config=config)
            self._record(ra, self._origin(kust, "commonLabels"))
        if data.get("commonLabels") or kust.get_list("labels"):
            # kustomize always adds the commonLabels LabelTransformer after the labels entries.
            ran("LabelTransformer")
        if data.get("commonAnnotations"):
            with self._blame(kust, "commonAnnotations"):
                tf.apply_annotations(ra, data["commonAnnotations"], config)
            self._record(ra, self._origin(kust, "commonAnnotations"))
            ran("AnnotationsTransformer")
        for i, entry in enumerate(kust.get_list("patchesJson6902")):
            self._patch(kust, entry, i, ra, legacy_json=True)
            ran("PatchJson6902Transformer")
            _drop_empties(ra)
        for i, entry in enumerate(kust.get_list("replicas")):
            name, count = entry.get("name"), entry.get("count")
            if not isinstance(name, str) or not isinstance(count, int) or isinstance(count, bool):
                raise kust.error("replicas entries need a name and an integer count", "replicas", i)
            with self._blame(kust, "replicas", i):
                tf.apply_replicas(ra, name, count, config)
            self._record(ra, self._origin(kust, "replicas", i, "count"))
            ran("ReplicaCountTransformer")
        images = [*kust.get_list("images"), *kust.get_list("imageTags")]
        for i, entry in enumerate(images):
            key, index = (
                ("images", i)
                if i < len(kust.get_list("images"))
                else ("imageTags", i - len(kust.get_list("images")))
            )
            with self._blame(kust, key, index):
                tf.apply_image(ra, entry, config)
            sub = next((k for k in ("newTag", "digest", "newName") if k in entry), None)
            self._record(ra, self._origin(kust, key, index, sub))
            ran("ImageTagTransformer")
        if kust.get_list("replacements"):
            self._replacements(kust, ra)
            ran("ReplacementTransformer")
        for i, entry in _inline_first(kust.get_list("transformers")):
            for display, plugin, where in self._plugin_configs(kust, entry, i):
                self._run_plugin(kust, display, plugin, ra, config)
                if self._meta is not None:
                    buildmeta.mark(ra, buildmeta.plugin_origin(plugin, where))

    def _plugin_configs(
        self, kust: Kustomization, entry: Any, i: int, key: str = "transformers"
    ) -> list[tuple[str, dict[str, Any], str]]:
        """A `transformers`/`generators` entry: inline YAML, a file of plugin configs, or a kustomization.

        Each config comes with the path its origin names (buildMetadata).
        """
        if _is_inline(entry):
            where = self._here(kust)
            return [
                (kust.path, clone(d), where)
                for d in yamlio.load_documents(entry, kust.path)
                if isinstance(d, dict)
            ]
        where = buildmeta.join(self._prefix, entry)
        path = self._resolve(kust, entry, key, i)
        if self.tree.kind(path) == "dir":
            path = kustfile.canonical(self.tree, path)
            configs = self._accumulate_cached(path, (), (kust, key, i))
            if self._meta is not None:
                buildmeta.reroot(configs, where)
            return [
                (self.tree.display(path), r.obj, (buildmeta.get_origin(r) or {}).get("path", where))
                for r in configs
            ]
        path = self._file_in_root(kust, entry, key, i)
        display = self.tree.display(path)
        return [
            (display, clone(obj), where) for doc in self._docs(path) for obj in expand_lists(doc, display)
        ]

    def _run_plugin(
        self, kust: Kustomization, display: str, plugin: dict[str, Any], ra: list[Resource], config: Config
    ) -> None:
        """One builtin transformer plugin config, run as kustomize runs it after the kustomization's own fields."""
        from gitops_gen.kustomize.builtins import transformers as tf

        kind = plugin.get("kind")
        if plugin.get("apiVersion") != "builtin" or kind not in PLUGIN_KINDS:
            raise GitopsGenError(
                f"not supported: transformers plugin {plugin.get('apiVersion')}/{kind} "
                "(only kustomize's builtin plugins; exec and container plugins never run)",
                display,
            )
        specs = tuple(parse_specs(plugin.get("fieldSpecs"), f"{display}: fieldSpecs"))
        synth: dict[str, Any] = {}
        if kind == "PatchTransformer":
            synth["patches"] = [{k: plugin[k] for k in ("path", "patch", "target", "options") if k in plugin}]
        elif kind == "PatchStrategicMergeTransformer":
            synth["patchesStrategicMerge"] = [
                *(plugin.get("paths") or []),
                *([plugin["patches"]] if plugin.get("patches") else []),
            ]
        elif kind == "PatchJson6902Transformer":
            entry: dict[str, Any] = {k: plugin[k] for k in ("path", "target") if k in plugin}
            if "jsonOp" in plugin:
                entry["patch"] = plugin["jsonOp"]
            synth["patchesJson6902"] = [entry]
        elif kind == "ReplacementTransformer":
            synth["replacements"] = plugin.get("replacements") or []
        if synth:
            self._transform(
                Kustomization(path=display, dir=kust.dir, data=synth, raw=b"", is_component=False),
                ra,
                config,
                mark=False,
            )
            return
        with self._blame(
            Kustomization(path=display, dir=kust.dir, data=plugin, raw=b"", is_component=False), None
        ):
            if kind == "PrefixSuffixTransformer":
                tf.apply_name_affix(
                    ra,
                    str(plugin.get("prefix") or ""),
                    str(plugin.get("suffix") or ""),
                    replace(config, name_prefix=specs, name_suffix=specs),
                )
            elif kind == "LabelTransformer":
                tf.apply_labels(
                    ra, plugin.get("labels") or {}, False, False, config=replace(config, labels=specs)
                )
            elif kind == "AnnotationsTransformer":
                tf.apply_annotations(
                    ra, plugin.get("annotations") or {}, replace(config, common_annotations=specs)
                )
            elif kind == "NamespaceTransformer":
                namespace = (plugin.get("metadata") or {}).get("namespace") or ""
                unset_only = plugin.get("unsetOnly", False)
                if not isinstance(unset_only, bool):
                    raise GitopsGenError("unsetOnly must be true or false", display)
                tf.apply_namespace(
                    ra,
                    namespace,
                    replace(config, namespace=specs),
                    unset_only,
                    str(plugin.get("setRoleBindingSubjects") or "defaultOnly"),
                )
            elif kind == "ImageTagTransformer":
                tf.apply_image(ra, plugin.get("imageTag") or {}, replace(config, images=specs))
            elif kind == "ReplicaCountTransformer":
                replica = plugin.get("replica") or {}
                count = replica.get("count")
                if not isinstance(count, int):
                    raise GitopsGenError("replica.count must be an integer", display)
                tf.apply_replicas(ra, str(replica.get("name") or ""), count, replace(config, replicas=specs))
        self._record(ra, Origin(display, "transformer", field=str(kind)))

    def _replacements(self, kust: Kustomization, ra: list[Resource]) -> None:
        from gitops_gen.kustomize.builtins.replacements import apply_replacements

        for i, entry in enumerate(kust.get_list("replacements")):
            if "path" in entry:
                if set(entry) != {"path"}:
                    raise kust.error("a replacements entry with path takes no other field", "replacements", i)
                file = self._file_in_root(kust, entry["path"], "replacements", i, "path")
                items: list[Any] = []
                for doc in self._docs(file):
                    items.extend(doc if isinstance(doc, list) else [doc])
                items = clone(items)
            else:
                items = [entry]
            with self._blame(kust, "replacements", i):
                apply_replacements(ra, items)
            self._record(ra, self._origin(kust, "replacements", i))

    def _psm_patches(self, kust: Kustomization, entry: Any, i: int) -> list[tuple[Origin, dict[str, Any]]]:
        """patchesStrategicMerge entries are file paths or, for legacy reasons, inline YAML."""
        key = "patchesStrategicMerge"
        if isinstance(entry, str) and (
            "\n" in entry or entry.lstrip().startswith(("{", "apiVersion:", "kind:"))
        ):
            docs = yamlio.load_documents(entry, kust.path)
            line = kust.line_of(key, i)[0]
            return [
                (Origin(kust.path, "smp", field=key, line=line, doc=j, patch=d), d)
                for j, d in enumerate(self._patch_docs(docs, kust.path))
            ]
        if isinstance(entry, dict):
            line = kust.line_of(key, i)[0]
            return [(Origin(kust.path, "smp", field=key, line=line, doc=0, patch=entry), clone(entry))]
        path = self._file_in_root(kust, entry, key, i)
        display = self.tree.display(path)
        return [
            (Origin(display, "smp", field=key, doc=j, patch=d), d)
            for j, d in enumerate(self._patch_docs(self._docs(path), display))
        ]

    def _patch_docs(self, docs: list[Any], display: str) -> list[dict[str, Any]]:
        out = []
        for doc in docs:
            for obj in expand_lists(doc, display):
                check_resource(obj, display)
                out.append(clone(obj))
        return out

    def _patch(
        self,
        kust: Kustomization,
        entry: dict[str, Any],
        i: int,
        ra: list[Resource],
        legacy_json: bool = False,
    ) -> None:
        key = "patchesJson6902" if legacy_json else "patches"
        unknown = set(entry) - {"path", "patch", "target", "options"}
        if unknown:
            raise kust.error(f"unknown field {sorted(unknown)[0]!r} in {key}[{i}]", key, i)
        text, path = entry.get("patch"), entry.get("path")
        if isinstance(text, str):
            text = text.strip()
        if not text and not path:
            raise kust.error(f"{key}[{i}] must specify one of patch and path", key, i)
        if text and path:
            raise kust.error(f"{key}[{i}]: patch and path can't be set at the same time", key, i)
        target = entry.get("target")
        if target is not None and not isinstance(target, dict):
            raise kust.error(f"{key}[{i}].target must be a mapping", key, i, "target")
        options = entry.get("options") or {}
        if path:
            file = self._file_in_root(kust, path, key, i, "path")
            display = self.tree.display(file)
            raw = self._read(file)
            line = None
            docs = self.parse_cache.load(raw, display)
        else:
            display = kust.path
            line = kust.line_of(key, i, "patch")[0]
            raw = text.encode() if isinstance(text, str) else b""
            docs = yamlio.load_documents(raw, display)
        json_ops = _as_json_patch(raw, docs)
        if legacy_json and json_ops is None:
            raise kust.error(f"{key}[{i}] is not a JSON 6902 patch", key, i)
        if json_ops is not None:
            if target is None:
                raise kust.error(f"must specify a target for JSON patch in {key}[{i}]", key, i)
            origin = Origin(display, "json6902", field=key, line=line, patch=json_ops)
            with self._blame(kust, key, i):
                selected = select(ra, target)
                for res in selected:
                    apply_json6902(res, json_ops, display, store_previous=not legacy_json)
            self._record(selected, origin, force=True)
            return
        patches = self._patch_docs(docs, display)
        if not patches:
            raise kust.error(f"{key}[{i}]: patch is empty", key, i)
        with self._blame(kust, key, i):
            if target is not None:
                if len(patches) > 1:
                    raise kust.error(
                        "multiple strategic-merge patches in one `patches` entry are not "
                        "allowed with `target`",
                        key,
                        i,
                    )
                selected = select(ra, target)
                apply_smp(
                    ra,
                    selected,
                    patches[0],
                    bool(options.get("allowNameChange")),
                    bool(options.get("allowKindChange")),
                    retarget=True,
                )
                self._record(selected, Origin(display, "smp", field=key, line=line, patch=patches[0]), True)
            else:
                for j, patch in enumerate(patches):
                    found = get_by_id(ra, patch_id(patch), display)
                    apply_smp(
                        ra,
                        [found],
                        patch,
                        bool(options.get("allowNameChange")),
                        bool(options.get("allowKindChange")),
                    )
                    self._record(
                        [found], Origin(display, "smp", field=key, line=line, doc=j, patch=patch), True
                    )


# ---------------------------------------------------------------------- resource helpers
Lineage = tuple[tuple[str, str], ...]


class Frozen(NamedTuple):
    """A list of resources as one marshal blob plus what marshal cannot hold."""

    blob: bytes
    origins: list[Origin]
    histories: list[list[Step] | None]


def freeze(ra: list[Resource]) -> Frozen:
    """Everything a later step can see or change; equal blobs mean equal build states."""
    blob = marshal.dumps(
        [
            (
                r.obj,
                [tuple(p) for p in r.prev_ids],
                r.behavior,
                r.needs_hash,
                r.name_prefixes,
                r.name_suffixes,
                r.origin.path,
                r.origin.doc,
                r.ref_vars,
                r.bare_nulls,
            )
            for r in ra
        ]
    )
    # The histories are copied: the caller goes on recording its own later steps into RA's lists.
    return Frozen(blob, [r.origin for r in ra], [None if r.history is None else list(r.history) for r in ra])


def thaw(frozen: Frozen) -> list[Resource]:
    out = []
    items = marshal.loads(frozen.blob)
    for (obj, prev, behavior, needs_hash, prefixes, suffixes, _, _, ref_vars, bare), origin, history in zip(
        items, frozen.origins, frozen.histories, strict=True
    ):
        out.append(
            Resource(
                obj,
                origin,
                [ResId(*p) for p in prev],
                behavior,
                needs_hash,
                None if history is None else list(history),
                prefixes,
                suffixes,
                ref_vars,
                bare,
            )
        )
    return out


# Annotations kustomize uses internally and removes from every object it prints.
BUILD_ANNOTATIONS = frozenset(
    {
        "config.kubernetes.io/origin",
        "alpha.config.kubernetes.io/transformations",
        "config.kubernetes.io/index",
        "config.kubernetes.io/path",
        "config.k8s.io/id",
        *(
            "internal.config.kubernetes.io/" + name
            for name in (
                "previousKinds",
                "previousNames",
                "previousNamespaces",
                "prefixes",
                "suffixes",
                "refBy",
                "generatorBehavior",
                "needsHashSuffix",
                "allowNameChange",
                "allowKindChange",
                "index",
                "path",
                "id",
                "seqindent",
                "annotations-migration-resource-id",
            )
        ),
    }
)


def strip_build_annotations(obj: dict[str, Any], keep: bool = False) -> None:
    """What kustomize removes at output; an annotations map left empty goes too.

    KEEP: the origin and transformer annotations stay (buildMetadata has decided on them).
    """
    md = obj.get("metadata")
    if not isinstance(md, dict) or "annotations" not in md:
        return
    ann = md["annotations"]
    if isinstance(ann, dict):
        for key in BUILD_ANNOTATIONS.intersection(ann):
            if not (keep and key in (buildmeta.ORIGIN, buildmeta.TRANSFORMATIONS)):
                del ann[key]
        if not ann:
            del md["annotations"]


def _is_local(res: Resource) -> bool:
    value = res.annotations().get("config.kubernetes.io/local-config")
    return value is not None and value != "false"


def _drop_empties(ra: list[Resource]) -> None:
    ra[:] = [r for r in ra if r.obj]


GENERATOR_FIELDS = {"ConfigMapGenerator": "configMapGenerator", "SecretGenerator": "secretGenerator"}


def _generator_entry(plugin: dict[str, Any], display: str) -> dict[str, Any]:
    """A builtin generator plugin config as the kustomization generator entry it is equivalent to."""
    kind = plugin.get("kind")
    if plugin.get("apiVersion") != "builtin" or kind not in GENERATOR_FIELDS:
        raise GitopsGenError(
            f"not supported: generators plugin {plugin.get('apiVersion')}/{kind} "
            "(only kustomize's builtin ConfigMapGenerator and SecretGenerator)",
            display,
        )
    md = plugin.get("metadata") or {}
    entry = {k: v for k, v in plugin.items() if k not in ("apiVersion", "kind", "metadata")}
    entry["name"] = md.get("name")
    if md.get("namespace"):
        entry["namespace"] = md["namespace"]
    return {GENERATOR_FIELDS[str(kind)]: [entry]}


def _is_inline(entry: Any) -> bool:
    return isinstance(entry, str) and "\n" in entry.strip()


def _inline_first(entries: list[Any]) -> list[tuple[int, Any]]:
    """kustomize runs the inline plugin configs of `transformers`/`generators` first, then the files."""
    indexed = list(enumerate(entries))
    return [e for e in indexed if _is_inline(e[1])] + [e for e in indexed if not _is_inline(e[1])]


def _has_null_value(node: Any) -> bool:
    if isinstance(node, dict):
        return any(v is None or (isinstance(v, dict | list) and _has_null_value(v)) for v in node.values())
    if isinstance(node, list):
        return any(isinstance(v, dict | list) and _has_null_value(v) for v in node)
    return False


def _annotation_texts(obj: dict[str, Any], nulls: list[tuple[tuple[Any, ...], str]]) -> None:
    """kustomize reads annotations as the text of each value: a null annotation becomes "null", "~" or ""."""
    annotations = (obj.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        for at, text in nulls:
            if len(at) == 3 and at[:2] == ("metadata", "annotations") and annotations.get(at[2], 0) is None:
                annotations[at[2]] = text


def _drop_bare_nulls(obj: dict[str, Any], paths: list[tuple[Any, ...]]) -> None:
    """kyaml's merge walk drops the fields written as nothing (`key:`) from the object it patches."""
    for path in paths:
        node: Any = obj
        for step in path[:-1]:
            if (isinstance(node, dict) and step in node) or (
                isinstance(node, list) and isinstance(step, int) and step < len(node)
            ):
                node = node[step]
            else:
                break
        else:
            if isinstance(node, dict) and path[-1] in node and node[path[-1]] is None:
                del node[path[-1]]


def expand_lists(doc: Any, display: str) -> list[dict[str, Any]]:
    """Documents of a resource file with `kind: *List` items inlined, as kustomize does."""
    if doc is None:
        return []
    if not isinstance(doc, dict):
        raise GitopsGenError(f"expected a mapping (a Kubernetes object), got {type(doc).__name__}", display)
    if not doc:
        return []
    kind = doc.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and "items" in doc:
        items = doc["items"]
        if items is None:
            return []
        if not isinstance(items, list):
            raise GitopsGenError(f"expected array in {kind}/items", display)
        out: list[dict[str, Any]] = []
        for item in items:
            out.extend(expand_lists(item, display))
        return out
    return [doc]


def _checked_objects(doc: Any, display: str) -> list[dict[str, Any]]:
    objs = expand_lists(doc, display)
    for obj in objs:
        check_resource(obj, display)
    return objs


def check_resource(obj: dict[str, Any], display: str) -> None:
    kind = obj.get("kind")
    if not kind or not isinstance(kind, str):
        raise GitopsGenError("missing kind in object", display)
    md = obj.get("metadata")
    name = md.get("name") if isinstance(md, dict) else None
    if not kind.endswith("List") and (not name or not isinstance(name, str)):
        raise GitopsGenError(f"missing metadata.name in {kind} object", display)
    _drop_empty_annotations(obj)


def _drop_empty_annotations(obj: dict[str, Any]) -> None:
    """kustomize rewrites every object's annotations while it builds: a null or empty map is gone after."""
    md = obj.get("metadata")
    if isinstance(md, dict) and "annotations" in md and md["annotations"] in (None, {}):
        del md["annotations"]


def append_all(
    ra: list[Resource],
    new: list[Resource],
    seen: set[IdKey],
    err: Callable[[str], GitopsGenError],
) -> None:
    """kustomize's AppendAll: an id already registered (same GVK, name, effective namespace) is an error.

    SEEN holds the keys of RA; the caller keeps it across calls so the check stays linear.
    """
    for res in new:
        key = id_key(res)
        if key in seen:
            raise err(f"may not add resource with an already registered id: {res.cur_id()}")
        seen.add(key)
        ra.append(res)


def patch_id(patch: dict[str, Any]) -> ResId:
    group, version = split_api_version(str(patch.get("apiVersion") or ""))
    md = patch.get("metadata") or {}
    return ResId(
        group,
        version,
        str(patch.get("kind") or ""),
        str(md.get("name") or ""),
        str(md.get("namespace") or ""),
    )


def get_by_id(ra: list[Resource], rid: ResId, display: str) -> Resource:
    """kustomize's GetById: exactly one resource whose current or previous id equals RID."""
    found = [r for r in ra if any(i.equals(rid) for i in r.all_ids())]
    if len(found) == 1:
        return found[0]
    what = "multiple matches" if found else "no matches"
    raise GitopsGenError(
        f"{what} for patch target {rid} (the patch's apiVersion, kind, name and namespace "
        "must identify one resource)",
        display,
    )


def apply_smp(
    ra: list[Resource],
    targets: list[Resource],
    patch: dict[str, Any],
    allow_name: bool,
    allow_kind: bool,
    retarget: bool = False,
) -> None:
    from gitops_gen.kustomize import smp
    from gitops_gen.kustomize.openapi import patch_meta

    for res in targets:
        # smp.merge never changes the patch nor puts its nodes in the result: no copy needed.
        p = patch
        if retarget:
            # kustomize gives a targeted patch the target's group/version but keeps the patch's kind.
            p = {**patch, "apiVersion": res.api_version}
        if res.bare_nulls:
            _drop_bare_nulls(res.obj, res.bare_nulls)
            res.bare_nulls = []
        name, ns, kind = res.name, res.namespace, res.kind
        if allow_name or allow_kind:
            res.store_previous_id()
        # The resource owns its object and drops it for the result, so the merge may share
        # (and skip copying) every subtree the patch does not touch.
        merged = smp.merge(res.obj, p, patch_meta(res.api_version, res.kind), consume_base=True)
        if not merged:
            res.obj = {}
            continue
        res.obj = merged
        if not allow_kind:
            res.obj["kind"] = kind
        md = res.meta
        if not allow_name:
            md["name"] = name
        if ns:
            md["namespace"] = ns
        else:
            md.pop("namespace", None)


def _as_json_patch(raw: bytes, docs: list[Any]) -> list[Any] | None:
    """A JSON 6902 patch is a JSON array, or YAML whose single document is a list of operations."""
    if raw.lstrip().startswith(b"["):
        import json

        try:
            ops = json.loads(raw)
        except ValueError:
            ops = docs[0] if len(docs) == 1 else None
        return ops if isinstance(ops, list) else None
    if len(docs) == 1 and isinstance(docs[0], list):
        return docs[0]
    return None


def apply_json6902(res: Resource, ops: list[Any], display: str, store_previous: bool) -> None:
    """Apply RFC 6902 operations the way kustomize's patch filter behaves.

    Two kustomize behaviours differ from a plain RFC 6902 library: every resource
    carries kustomize's internal annotations while patches run, so ``add
    /metadata/annotations/x`` works on an object without annotations; and ``replace``
    of a missing map key adds it.
    """
    import jsonpatch
    import jsonpointer

    if store_previous:
        res.store_previous_id()
    obj = clone(res.obj)
    md = obj.get("metadata")
    injected = isinstance(md, dict) and "annotations" not in md
    if injected:
        md["annotations"] = {}
    for op in ops:
        if not isinstance(op, dict):
            raise GitopsGenError(f"JSON 6902 operation must be a mapping, got {op!r}", display)
        if op.get("op") == "replace" and isinstance(op.get("path"), str):
            parent_ptr, _, last = op["path"].rpartition("/")
            try:
                parent = jsonpointer.resolve_pointer(obj, parent_ptr) if parent_ptr else obj
            except jsonpointer.JsonPointerException:
                parent = None
            key = last.replace("~1", "/").replace("~0", "~")
            if isinstance(parent, dict) and key not in parent:
                op = {**op, "op": "add"}
        try:
            obj = jsonpatch.JsonPatch([op]).apply(obj, in_place=True)
        except (
            jsonpatch.JsonPatchException,
            jsonpointer.JsonPointerException,
            KeyError,
            IndexError,
            TypeError,
            ValueError,
        ) as err:
            raise GitopsGenError(f"JSON 6902 patch failed on {res.kind}/{res.name}: {err}", display) from None
    md = obj.get("metadata") if isinstance(obj, dict) else None
    if injected and isinstance(md, dict) and md.get("annotations") == {}:
        del md["annotations"]
    res.obj = obj


# ---------------------------------------------------------------------- output order
def legacy_sort_key(options: dict[str, Any] | None = None) -> Callable[[Resource], tuple[Any, ...]]:
    first = list((options or {}).get("orderFirst") or ORDER_FIRST)
    last = list((options or {}).get("orderLast") or ORDER_LAST)
    rank = {k: -len(first) + i for i, k in enumerate(first)}
    rank.update({k: 1 + i for i, k in enumerate(last)})

    def key(res: Resource) -> tuple[Any, ...]:
        group, version, kind = res.gvk()
        gvk = "_".join((group or "~G", version or "~V", kind or "~K"))
        # Not matched: kustomize orders two Namespace kinds of different groups in reverse.
        # One string, as kustomize compares it: "kubeflow-system|a" sorts before "kubeflow|b".
        return (rank.get(kind, 0), gvk, f"{res.namespace or '~X'}|{res.name or '~N'}")

    return key
