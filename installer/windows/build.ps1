# Builds the Windows installer: the one-folder app with PyInstaller, its icons, then Inno Setup around it.
# Run from the repository root in a Python 3.10+ environment on Windows, with Inno Setup 6 installed:
#
#   py -m venv .venv; .venv\Scripts\pip install -e ".[step,draco,dist]"
#   powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1
#
# Writes dist\twinviewer\ (the app: twinviewer.exe for the command line, twinviewer-gui.exe for the window)
# and dist\twinviewer-VERSION-windows-x64-setup.exe.
$ErrorActionPreference = "Stop"
$py = if (Test-Path ".venv\Scripts\python.exe") { ".venv\Scripts\python.exe" } else { "python" }
& $py -m PyInstaller --noconfirm --distpath dist --workpath build\pyinstaller installer\twinviewer.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }
New-Item -ItemType Directory -Force build\icons | Out-Null
& $py -c "from pathlib import Path; from PIL import Image; [Image.open(p).save(Path('build/icons') / (p.stem + '.ico'), sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]) for p in Path('resources').glob('*.png')]"
if ($LASTEXITCODE -ne 0) { throw "icon conversion failed" }
$version = (& dist\twinviewer\twinviewer.exe --version).Split(" ")[1]
& dist\twinviewer\twinviewer.exe render dist\twinviewer\_internal\twinviewer\_assets\demo\demo.twin.toml --out build\smoke.png
if ($LASTEXITCODE -ne 0) { throw "the built app cannot render the demo" }
$iscc = @("iscc.exe", "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe", "$env:ProgramFiles\Inno Setup 6\ISCC.exe") |
  Where-Object { Get-Command $_ -ErrorAction SilentlyContinue } | Select-Object -First 1
if (-not $iscc) { throw "Inno Setup 6 (ISCC.exe) not found: install it from jrsoftware.org" }
& $iscc "/DAppVersion=$version" installer\windows\twinviewer.iss
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
