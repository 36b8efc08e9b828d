"""The audit log page reads 四查三比对's entries in words: keys, and codes by the key they stand under."""

from xueji.services.system.audit_log import ACTIONS, ENTITIES, _readable


def test_a_list_import_reads_in_words_and_a_code_is_translated_only_under_its_own_key():
    stored = {
        "kind": "disabled",
        "category": "disabled",  # a case's category: the same code, not the 残联 list
        "changes": {"new": 9, "left": 1},
        "comparison": {"in_school": 1009, "not_enrolled": 12, "task_closed": 3},
        "outcome": "out_of_school",
    }
    assert _readable(stored) == {
        "名单": "残联",
        "category": "disabled",
        "与上一版相比": {"新增": 9, "移出": 1},
        "比对结果": {"在籍在校": 1009, "适龄未入学/去向待核实": 12, "关闭的任务": 3},
        "结果": "失学/辍学",
    }


def test_a_notice_reads_in_words():
    stored = {"notice": "order", "number": "古港镇控辍〔2026〕3号", "notice_id": 7, "sha256": "ab"}
    assert _readable(stored) == {
        "文书": "限期入学/复学通知书",
        "文号": "古港镇控辍〔2026〕3号",
        "文书编号": 7,
        "SHA-256": "ab",
    }
    assert ACTIONS["notice.issue"] == "生成通知书、个案档案" and ENTITIES["notice"] == "通知书、个案档案"
