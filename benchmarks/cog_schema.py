"""Write ``.cog/openapi_schema.json`` for a model folder using Cog's own inspector.

Why this exists: Cog's Rust server (coglet) validates inputs and decides
whether a model may stream over SSE only from ``.cog/openapi_schema.json`` in
the model folder.  ``cog build`` writes that file with the Go CLI's static
schema generator, but the ``cog==0.23.1`` wheel ships no generator module
(there is no ``cog.command.openapi_schema`` any more).  Without the file Cog
serves predictions unvalidated and refuses SSE, which would make Cog look
cheaper than it is in production and break the streaming workload.

So this script introspects the predictor with ``cog._inspector`` (the same
code coglet's worker uses to type inputs) and lays the result out the way
the Go generator does (``components.schemas.Input``/``Output``, the
``/predictions`` and cancel paths).  ``@cog.streaming`` is a no-op decorator
at run time in 0.23.1 (the Go CLI detects it in the source), so streaming is
detected the same way here: by reading the decorator in the source's AST.

It must run with an interpreter that has ``cog`` installed (the Cog venv).
Usage: ``python cog_schema.py MODEL_DIR [predict.py:Predictor]``.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

PREDICT_METHOD_NAMES = ("run", "predict")


def _is_streaming_decorator(node: ast.expr) -> bool:
    """True for ``@streaming``, ``@cog.streaming`` and their called forms."""
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Name):
        return target.id == "streaming"
    if isinstance(target, ast.Attribute):
        return target.attr == "streaming"
    return False


def detect_streaming(source_file: Path, class_name: str) -> bool:
    """Whether the predictor's run/predict method carries ``@cog.streaming``."""
    tree = ast.parse(source_file.read_text(encoding="utf-8"), str(source_file))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if (
                    isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and item.name in PREDICT_METHOD_NAMES
                ):
                    return any(_is_streaming_decorator(d) for d in item.decorator_list)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == class_name:
            return any(_is_streaming_decorator(d) for d in node.decorator_list)
    return False


def _title(name: str) -> str:
    return " ".join(part.capitalize() for part in name.split("_"))


def _number(value: float | None) -> float | int | None:
    """Cog stores ge/le as floats; emit integral bounds as JSON integers."""
    if value is not None and float(value).is_integer():
        return int(value)
    return value


def _input_schema(info: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Build the Input schema and any enum schemas, mirroring Cog's Go generator."""
    from cog import _adt as adt

    properties: dict[str, Any] = {}
    required: list[str] = []
    enums: dict[str, Any] = {}
    for name, field in info.inputs.items():
        prop: dict[str, Any] = {"x-order": field.order}
        if field.choices:
            enums[name] = {
                "title": name,
                "description": "An enumeration.",
                "enum": list(field.choices),
                "type": field.type.primitive.json_type().get("type", "string"),
            }
            prop["allOf"] = [{"$ref": f"#/components/schemas/{name}"}]
        else:
            prop["title"] = _title(name)
            prop.update(field.type.json_type())
        nullable = field.type.repetition in (
            adt.Repetition.OPTIONAL,
            adt.Repetition.OPTIONAL_REPEATED,
        )
        has_default = field.default is not None or nullable
        if not has_default and field.type.repetition in (
            adt.Repetition.REQUIRED,
            adt.Repetition.REPEATED,
        ):
            required.append(name)
        if field.default is not None:
            prop["default"] = field.type.json_encode(field.default)
        if nullable:
            prop["nullable"] = True
        for key, value in (
            ("description", field.description),
            ("minimum", _number(field.ge)),
            ("maximum", _number(field.le)),
            ("minLength", field.min_length),
            ("maxLength", field.max_length),
            ("pattern", field.regex),
        ):
            if value is not None:
                prop[key] = value
        if field.deprecated:
            prop["deprecated"] = True
        properties[name] = prop
    schema: dict[str, Any] = {"title": "Input", "type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema, enums


def build_schema(model_dir: Path, predictor_ref: str) -> dict[str, Any]:
    """Introspect ``predictor_ref`` inside ``model_dir`` and return the OpenAPI doc."""
    module_file, _, class_name = predictor_ref.partition(":")
    module_name = Path(module_file).stem
    sys.path.insert(0, str(model_dir))
    from cog import _inspector

    with warnings.catch_warnings():
        # BasePredictor/predict() deprecation notices are irrelevant to the schema.
        warnings.simplefilter("ignore", DeprecationWarning)
        info = _inspector.create_predictor(module_name, class_name)
    input_schema, enums = _input_schema(info)
    streaming = detect_streaming(model_dir / module_file, class_name)
    ref = "#/components/schemas/"
    validation = {
        "description": "Validation Error",
        "content": {"application/json": {"schema": {"$ref": ref + "HTTPValidationError"}}},
    }
    predict_op: dict[str, Any] = {
        "summary": "Predict",
        "description": "Run a single prediction on the model",
        "operationId": "predict_predictions_post",
        "requestBody": {
            "content": {"application/json": {"schema": {"$ref": ref + "PredictionRequest"}}}
        },
        "responses": {
            "200": {
                "description": "Successful Response",
                "content": {"application/json": {"schema": {"$ref": ref + "PredictionResponse"}}},
            },
            "422": validation,
        },
    }
    if streaming:
        predict_op["x-cog-streaming"] = True
    components: dict[str, Any] = {"Input": input_schema, "Output": info.output.json_type()}
    components.update(enums)
    components["PredictionRequest"] = {
        "title": "PredictionRequest",
        "type": "object",
        "properties": {
            "id": {"title": "Id", "type": "string"},
            "input": {"$ref": ref + "Input"},
        },
    }
    components["PredictionResponse"] = {
        "title": "PredictionResponse",
        "type": "object",
        "properties": {
            "input": {"$ref": ref + "Input"},
            "output": {"$ref": ref + "Output"},
            "id": {"title": "Id", "type": "string"},
            "status": {"title": "Status", "type": "string"},
            "error": {"title": "Error", "type": "string"},
            "logs": {"title": "Logs", "type": "string"},
            "metrics": {"title": "Metrics", "type": "object"},
        },
    }
    components["HTTPValidationError"] = {
        "title": "HTTPValidationError",
        "type": "object",
        "properties": {"detail": {"title": "Detail", "type": "array"}},
    }
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": {
            "/predictions": {"post": predict_op},
            "/predictions/{prediction_id}/cancel": {
                "post": {
                    "summary": "Cancel",
                    "operationId": "cancel_predictions__prediction_id__cancel_post",
                    "parameters": [
                        {
                            "required": True,
                            "schema": {"title": "Prediction Id", "type": "string"},
                            "name": "prediction_id",
                            "in": "path",
                        }
                    ],
                    "responses": {"200": {"description": "Successful Response"}, "422": validation},
                }
            },
        },
        "components": {"schemas": components},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("predictor_ref", nargs="?", default="predict.py:Predictor")
    args = parser.parse_args(argv)
    model_dir: Path = args.model_dir.resolve()
    os.chdir(model_dir)
    schema = build_schema(model_dir, args.predictor_ref)
    out = model_dir / ".cog" / "openapi_schema.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
