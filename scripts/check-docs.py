#!/usr/bin/env python3
"""Checks a DocC build (make docs) for what DocC itself lets pass.

- Every public top-level symbol of every module is curated on its module page: a module page
  whose topics include a section DocC generated (Classes, Structures, Functions, ...) lists
  symbols no one placed; the "Extended Modules" section (extensions of another module's types)
  is DocC's own and is allowed.
- Every relative link and picture in README.md and in the catalog's articles names a file that
  exists (DocC checks its own symbol and article links; `--warnings-as-errors` makes those fatal).

    python3 scripts/check-docs.py .build/docs
"""
import json, os, re, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
docs = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, '.build/docs')
modules = sys.argv[2].split() if len(sys.argv) > 2 else []
problems = []

# 1. Curation.
data = os.path.join(docs, 'data/documentation')
for module in modules:
    page = os.path.join(data, module.lower() + '.json')
    if not os.path.exists(page):
        problems.append(f'{page}: no module page for {module}')
        continue
    for section in json.load(open(page)).get('topicSections', []):
        if section.get('generated') and section.get('title') != 'Extended Modules':
            names = [identifier.rsplit('/', 1)[-1] for identifier in section['identifiers']]
            problems.append(f'Sources/{module}/{module}.docc/{module}.md: not curated ({section["title"]}): ' + ', '.join(names))

# 2. Relative links and pictures.
catalog = os.path.join(root, 'Sources/VAEToolkit/VAEToolkit.docc')
link = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')
def check_links(path, base_folder, resources):
    in_code = False
    for number, line in enumerate(open(path), 1):
        if line.startswith('```'):
            in_code = not in_code
        if in_code:
            continue
        for target in link.findall(line):
            if re.match(r'[a-z]+:', target) or target.startswith('#') or target.startswith('<doc:'):
                continue
            file = target.split('#', 1)[0]
            if resources is not None and '/' not in file:
                if file not in resources:
                    problems.append(f'{path}:{number}: picture {file} is not in the catalog')
            elif not os.path.exists(os.path.join(base_folder, file)):
                problems.append(f'{path}:{number}: {file} does not exist')
check_links(os.path.join(root, 'README.md'), root, None)
resources = set()
for folder, _, files in os.walk(catalog):
    resources.update(files)
for name in sorted(os.listdir(catalog)):
    if name.endswith('.md'):
        check_links(os.path.join(catalog, name), catalog, resources)

for problem in problems:
    print(problem, file=sys.stderr)
if problems:
    sys.exit(1)
print(f'documentation checks: {len(modules)} module pages curated, links resolve')
