#!/usr/bin/env python3
"""Writes the code steps of the tutorial "A model kind in your own package" from the example
program it teaches (Examples/Sources/CustomModelKind/main.swift, which `make test` builds and
runs), so that the tutorial shows that program and no copy of it can drift. DocC shows each step
as a whole file and highlights what changed from the step before:

    custom-kind-02-architecture.swift  the program up to its architecture type
    custom-kind-03-model.swift         ... and its model
    custom-kind-04-training.swift      ... and the registration and training, closed by its `catch`
    custom-kind-05-evaluation.swift    the whole program

The files go into the catalog's Resources (ignored by git); `make docs` runs this first.

    python3 scripts/tutorial-steps.py
"""
import os
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
example = os.path.join(root, 'Examples/Sources/CustomModelKind/main.swift')
resources = os.path.join(root, 'Sources/VAEToolkit/VAEToolkit.docc/Resources')
program = open(example).read().rstrip('\n').split('\n')


def first(prefix):
    """The index of the program's first line that starts with `prefix`."""
    for index, line in enumerate(program):
        if line.startswith(prefix):
            return index
    sys.exit(f'{example}: no line starts with {prefix!r}; the tutorial\'s steps are cut at it')


def until(end):
    """The program's lines before `end`, without the blank lines that close them."""
    lines = program[:end]
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


model = first('/// The model:')
arguments = first('let arguments')
closing = first('    session.close()') + 1
catch = first('} catch {')
steps = {
    'custom-kind-02-architecture.swift': until(model),
    'custom-kind-03-model.swift': until(arguments),
    'custom-kind-04-training.swift': until(closing) + program[catch:],
    'custom-kind-05-evaluation.swift': program,
}
for name, lines in steps.items():
    with open(os.path.join(resources, name), 'w') as file:
        file.write('\n'.join(lines) + '\n')
print(f'tutorial steps: {len(steps)} files from {os.path.relpath(example, root)}')
