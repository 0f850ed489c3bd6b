"""A fitted HistGradientBoostingRegressor as an ONNX TreeEnsembleRegressor, written here rather than by skl2onnx.

skl2onnx 1.20 cannot write scikit-learn 1.9's histogram GBRs (a Python bool in an int list of the tree
attributes), and it keeps their float64 thresholds as they are, so a float32 input exactly between two close
values can take the other branch. Here each threshold becomes the largest float32 not above it, which makes
`x <= threshold` give the same answer for every float32 `x` as scikit-learn's float64 comparison.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper
from sklearn.ensemble import HistGradientBoostingRegressor


def float32_at_or_below(value: float) -> float:
    """The largest float32 that is <= `value`."""
    single = np.float32(value)
    if float(single) > value:
        single = np.nextafter(single, np.float32(-np.inf))
    return float(single)


def tree_attributes(model: HistGradientBoostingRegressor) -> dict[str, list[Any]]:
    """The TreeEnsembleRegressor node and leaf lists of every tree of `model` (one target, numeric splits)."""
    attributes: dict[str, list[Any]] = defaultdict(list)
    for tree_id, (predictor,) in enumerate(model._predictors):
        for node_id, node in enumerate(predictor.nodes):
            leaf = bool(node["is_leaf"])
            if not leaf and node["is_categorical"]:
                raise ValueError("categorical splits are not exported")
            attributes["nodes_treeids"].append(tree_id)
            attributes["nodes_nodeids"].append(node_id)
            attributes["nodes_featureids"].append(0 if leaf else int(node["feature_idx"]))
            attributes["nodes_modes"].append("LEAF" if leaf else "BRANCH_LEQ")
            attributes["nodes_values"].append(0.0 if leaf else float32_at_or_below(float(node["num_threshold"])))
            attributes["nodes_truenodeids"].append(0 if leaf else int(node["left"]))
            attributes["nodes_falsenodeids"].append(0 if leaf else int(node["right"]))
            attributes["nodes_missing_value_tracks_true"].append(0 if leaf else int(node["missing_go_to_left"]))
            if leaf:
                attributes["target_treeids"].append(tree_id)
                attributes["target_nodeids"].append(node_id)
                attributes["target_ids"].append(0)
                attributes["target_weights"].append(float(node["value"]))
    return attributes


def export_hist_gbr(model: HistGradientBoostingRegressor, path: Path, n_features: int) -> Path:
    """Write `model` as ONNX taking a float32 (n, n_features) batch named `features`, output (n, 1)."""
    attributes: dict[str, Any] = {
        "n_targets": 1,
        "aggregate_function": "SUM",
        "post_transform": "NONE",
        "base_values": [float(np.ravel(model._baseline_prediction)[0])],
        **tree_attributes(model),
    }
    node = helper.make_node("TreeEnsembleRegressor", ["features"], ["variable"], domain="ai.onnx.ml", **attributes)
    graph = helper.make_graph(
        [node],
        "hist_gradient_boosting",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
    )
    onnx_model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)],
        producer_name="likepredict",
    )
    onnx_model.ir_version = 8
    onnx.checker.check_model(onnx_model)
    path.write_bytes(onnx_model.SerializeToString())
    return path
