; Inno Setup 6 script: a Windows installer around the one-folder build (installer/README.md, "Windows").
;
;   powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1     (builds, then runs ISCC on this)
;   or by hand:  iscc /DAppVersion=0.1.0 installer\windows\twinviewer.iss
;
; Installs per user without admin rights by default (or for all users when run as administrator), adds a
; Start-menu entry, and registers *.twinbundle (incident bundles) as TwinViewer's own type. Windows knows a
; file's type by its last extension only, so *.twin.toml projects are ".toml" files: TwinViewer is added to
; their "Open with" list, and becomes the default for all .toml files only if the user ticks that task.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define Root "..\.."

[Setup]
AppId={{6B1D7F5E-3C2A-4E8B-9C1D-2F4A5B6C7D8E}
AppName=TwinViewer
AppVersion={#AppVersion}
AppPublisher=TwinViewer
AppComments=Offline digital-twin viewer: CAD models, live and recorded sensor data, failure scenarios
DefaultDirName={autopf}\TwinViewer
DefaultGroupName=TwinViewer
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
ChangesAssociations=yes
OutputDir={#Root}\dist
OutputBaseFilename=twinviewer-{#AppVersion}-windows-x64-setup
SetupIconFile={#Root}\build\icons\twinviewer.ico
UninstallDisplayIcon={app}\twinviewer-gui.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "tomldefault"; Description: "Open all .toml files with TwinViewer (projects are *.twin.toml)"; GroupDescription: "File types:"; Flags: unchecked

[Files]
Source: "{#Root}\dist\twinviewer\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "{#Root}\build\icons\*.ico"; DestDir: "{app}\icons"; Flags: ignoreversion

[Icons]
Name: "{autoprograms}\TwinViewer"; Filename: "{app}\twinviewer-gui.exe"; Comment: "Open the demo twin or a project"
Name: "{autoprograms}\TwinViewer demo twin"; Filename: "{app}\twinviewer-gui.exe"; Parameters: """{app}\_internal\twinviewer\_assets\demo\demo.twin.toml"""
Name: "{autodesktop}\TwinViewer"; Filename: "{app}\twinviewer-gui.exe"; Tasks: desktopicon

[Registry]
; Incident bundles: TwinViewer's own extension.
Root: HKA; Subkey: "Software\Classes\.twinbundle"; ValueType: string; ValueName: ""; ValueData: "TwinViewer.Bundle"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.twinbundle"; ValueType: string; ValueName: "Content Type"; ValueData: "application/x-twinviewer-bundle"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\TwinViewer.Bundle"; ValueType: string; ValueName: ""; ValueData: "TwinViewer incident bundle"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\TwinViewer.Bundle\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\icons\application-x-twinviewer-bundle.ico,0"
Root: HKA; Subkey: "Software\Classes\TwinViewer.Bundle\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\twinviewer-gui.exe"" ""%1"""
; Projects (*.twin.toml): a type of their own, offered for .toml in "Open with", the default only by choice.
Root: HKA; Subkey: "Software\Classes\TwinViewer.Project"; ValueType: string; ValueName: ""; ValueData: "TwinViewer project"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\TwinViewer.Project\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\icons\application-x-twinviewer-project.ico,0"
Root: HKA; Subkey: "Software\Classes\TwinViewer.Project\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\twinviewer-gui.exe"" ""%1"""
Root: HKA; Subkey: "Software\Classes\.toml\OpenWithProgids"; ValueType: string; ValueName: "TwinViewer.Project"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.toml"; ValueType: string; ValueName: ""; ValueData: "TwinViewer.Project"; Flags: uninsdeletevalue; Tasks: tomldefault
; Mesh files: TwinViewer in their "Open with" list (never taken over).
Root: HKA; Subkey: "Software\Classes\TwinViewer.Model"; ValueType: string; ValueName: ""; ValueData: "3D model"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\TwinViewer.Model\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\twinviewer-gui.exe"" ""%1"""
Root: HKA; Subkey: "Software\Classes\.stl\OpenWithProgids"; ValueType: string; ValueName: "TwinViewer.Model"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.glb\OpenWithProgids"; ValueType: string; ValueName: "TwinViewer.Model"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.gltf\OpenWithProgids"; ValueType: string; ValueName: "TwinViewer.Model"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.obj\OpenWithProgids"; ValueType: string; ValueName: "TwinViewer.Model"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.ply\OpenWithProgids"; ValueType: string; ValueName: "TwinViewer.Model"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.step\OpenWithProgids"; ValueType: string; ValueName: "TwinViewer.Model"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.stp\OpenWithProgids"; ValueType: string; ValueName: "TwinViewer.Model"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\Applications\twinviewer-gui.exe"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "TwinViewer"; Flags: uninsdeletekey

[Run]
Filename: "{app}\twinviewer-gui.exe"; Description: "{cm:LaunchProgram,TwinViewer}"; Flags: nowait postinstall skipifsilent
