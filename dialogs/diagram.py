"""Mermaid diagrams drawn from a flow's own machine (``platebot diagram FLOW``)."""

from __future__ import annotations

from collections.abc import Iterable

from transitions.extensions.diagrams import GraphMachine

from dialogs.flow import Flow


def mermaid(flow: Flow) -> str:
    machine = flow.machine
    graph_machine = GraphMachine(
        model=None,
        states=list(machine.states.values()),
        initial=machine.initial,
        auto_transitions=False,
        send_event=True,
        graph_engine="mermaid",
        title=f"{flow.name} flow",
        show_conditions=True,
    )
    for event in machine.events.values():
        for source, transitions in event.transitions.items():
            for transition in transitions:
                graph_machine.add_transition(
                    event.name,
                    source,
                    transition.dest,
                    conditions=[condition.func for condition in transition.conditions],
                )

    class _Model:
        pass

    model = _Model()
    graph_machine.add_model(model)
    text: str = model.get_graph().draw(None)  # type: ignore[attr-defined]
    return text


def flows_markdown(flows: Iterable[Flow]) -> str:
    """``docs/flows.md``: every flow's diagram (``platebot docs`` writes it; a test compares)."""
    parts = [
        "# Dialog flows\n",
        "Drawn from the flows' own state machines by `platebot docs`"
        " (one flow: `platebot diagram NAME`).",
        "Global keywords (menu, back, cancel, help, language) work in every state"
        " and are not drawn.\n",
    ]
    for flow in flows:
        doc = (type(flow).__doc__ or "").strip()
        parts += [f"## {flow.name}\n", doc + "\n", "```mermaid", mermaid(flow).rstrip(), "```\n"]
    return "\n".join(parts)
