"""Excel in: schools, teachers, alliances with their memberships, and funding quotas from XLSX
or CSV.

An app of its own because what every import shares is not any one app's: reading an untrusted
spreadsheet (its guards against zip bombs, entity expansion and files that are not what their
name says), the downloadable templates with Chinese column names, the dry run that shows what
would change and every bad row by number, and the one transaction that writes all or nothing.
Each row is written by the owning app's services (``staffing.services``, ``funding.services``)
or, where the app has none, by its model's own checks (``full_clean``), as its forms do; who may
import is the access checkpoint's (``alliance.access.require_import``). Like the portal and the
reports, it sits on top: it imports the other apps, nothing imports it."""
