"""The one Registry helper: registration, lookup errors, aliases, case, lazy built-ins."""

from __future__ import annotations

import sys
import types

import pytest

from spectrakit.core.errors import ConfigError, FormatError, ModelError
from spectrakit.core.registry import Registry


def test_decorator_forms_and_metadata():
    reg: Registry = Registry("widget")

    @reg.register
    def plain():
        return 1

    @reg.register("named", colour="red")
    def other():
        return 2

    assert reg.lookup("plain") is plain
    assert reg.lookup("named") is other
    assert dict(reg.metadata("named")) == {"colour": "red"}
    assert dict(reg.metadata("plain")) == {}
    with pytest.raises(TypeError):
        reg.metadata("named")["colour"] = "blue"  # read-only view


def test_iteration_keeps_registration_order_names_are_sorted():
    reg: Registry = Registry("thing")
    for name in ("zeta", "alpha", "mid"):
        reg.add(name, object())
    assert list(reg) == ["zeta", "alpha", "mid"]
    assert reg.names() == ["alpha", "mid", "zeta"]
    assert reg.names("*ta") == ["zeta"]
    assert len(reg) == 3 and "mid" in reg and "nope" not in reg
    assert dict(reg.items()).keys() == {"zeta", "alpha", "mid"}


def test_unknown_name_lists_known_and_suggests_the_closest():
    reg: Registry = Registry("model", error=ModelError, hint="Run 'spectrakit models'")
    for name in ("cnn1d_tiny", "specbert_tiny", "mlp"):
        reg.add(name, object())
    with pytest.raises(ModelError) as info:
        reg.lookup("cnn1d_tinny")
    text = str(info.value)
    assert text.startswith("unknown model 'cnn1d_tinny'; known: cnn1d_tiny, mlp, specbert_tiny")
    assert "did you mean 'cnn1d_tiny'?" in text and "Run 'spectrakit models'" in text
    assert "\n" not in text
    with pytest.raises(ModelError) as info:
        reg.lookup("zzzzzzzz")
    assert "did you mean" not in str(info.value)


def test_conflicting_registration_is_refused_unless_replaced():
    reg: Registry = Registry("format", error=FormatError)
    first, second = object(), object()
    reg.add("csv", first)
    reg.add("csv", first)  # the same object again (module re-import) is fine
    with pytest.raises(FormatError, match="registered twice"):
        reg.add("csv", second)
    reg.add("csv", second, replace=True)
    assert reg.lookup("csv") is second
    with pytest.raises(FormatError, match="invalid format name"):
        reg.add("", first)


def test_case_folding_and_aliases():
    reg: Registry = Registry("method", case_sensitive=False, aliases={"Grad-CAM": "gradcam"})
    reg.add("gradcam", "g")
    reg.add("SNV", "s")
    assert reg.lookup("GRADCAM") == "g"
    assert reg.lookup("grad-cam") == "g"
    assert reg.canonical("snv") == "SNV"
    with pytest.raises(ConfigError, match="did you mean 'gradcam'"):
        reg.lookup("gradcan")
    strict: Registry = Registry("step")
    strict.add("SNV", "s")
    with pytest.raises(ConfigError, match="unknown step 'snv'"):
        strict.lookup("snv")


def test_check_hook_refuses_entries():
    def only_ints(name, obj):
        if not isinstance(obj, int):
            raise ConfigError(f"{name} is not an int")

    reg: Registry = Registry("number", check=only_ints)
    reg.add("one", 1)
    with pytest.raises(ConfigError, match="two is not an int"):
        reg.add("two", "2")
    assert "two" not in reg


def test_builtin_modules_load_once_on_first_use(monkeypatch):
    reg: Registry = Registry("plugin", modules=("_spectrakit_test_plugins", "_not_installed_x"))
    imports = []
    module = types.ModuleType("_spectrakit_test_plugins")

    class Loader:
        @staticmethod
        def exec_module(m):
            imports.append(m.__name__)
            reg.add("builtin", 1)

    def fake_import(name):
        if name == "_not_installed_x":
            raise ModuleNotFoundError(name=name)
        Loader.exec_module(module)
        sys.modules[name] = module
        return module

    monkeypatch.setattr("spectrakit.core.registry.importlib.import_module", fake_import)
    reg.add("user", 2)  # registering does not load the built-ins
    assert imports == []
    assert reg.names() == ["builtin", "user"]
    assert reg.lookup("builtin") == 1 and len(reg) == 2
    assert imports == ["_spectrakit_test_plugins"]  # once, and the missing module is skipped
    assert reg.registered("user") == 2 and reg.registered("nope") is None


def test_every_project_registry_is_one_registry():
    from spectrakit.augment import AUGMENTATIONS
    from spectrakit.cli._app import COMMANDS
    from spectrakit.explain._registry import METHODS
    from spectrakit.io import FORMATS
    from spectrakit.models import MODELS
    from spectrakit.ood import DETECTORS
    from spectrakit.preprocessing import STEPS

    tables = (MODELS, STEPS, FORMATS, AUGMENTATIONS, METHODS, DETECTORS, COMMANDS)
    assert all(isinstance(t, Registry) and len(t) > 0 for t in tables)


def test_public_registry_functions_keep_working():
    from spectrakit.augment import augmentation_from_config, list_augmentations
    from spectrakit.explain import list_methods
    from spectrakit.models import list_models, model_entrypoint, model_family
    from spectrakit.ood import create_detector, list_detectors
    from spectrakit.preprocessing import get_step_class, list_steps

    assert "cnn1d_tiny" in list_models("cnn1d*")
    assert model_family("cnn1d_tiny") == "cnn1d" and callable(model_entrypoint("cnn1d_tiny"))
    with pytest.raises(ModelError, match="did you mean 'cnn1d_tiny'"):
        model_entrypoint("cnn1d_tyni")
    assert get_step_class("savitzkygolay").__name__ == "SavitzkyGolay"
    assert "SNV" in list_steps()
    with pytest.raises(ConfigError, match="unknown preprocessing step 'SavitskyGolay'"):
        get_step_class("SavitskyGolay")
    assert "GaussianNoise" in list_augmentations()
    with pytest.raises(ConfigError, match="did you mean 'GaussianNoise'"):
        augmentation_from_config({"name": "GausianNoise"})
    assert "attention" in list_methods() and "attention" not in list_methods(faithful_only=True)
    assert type(create_detector("Mahalanobis")).__name__.lower().startswith("mahalanobis")
    assert "dime" in list_detectors()
    with pytest.raises(ConfigError, match="unknown OOD detector 'mahalanobs'"):
        create_detector("mahalanobs")
