//! The CBV 2.0 standard vocabularies (and the two GS1 Web Vocabulary lists EPCIS 2.0 sensor
//! data uses) and the three ways a standard value is written.
//!
//! Owns the word lists and the mapping between a bare word (`shipping`, JSON-LD), the CBV Web
//! URI (`https://ref.gs1.org/cbv/BizStep-shipping`) and the EPC URN
//! (`urn:epcglobal:cbv:bizstep:shipping`, XML). Does not own identifier syntax (EPC URNs of
//! objects and locations belong to [`crate::gs1`]).

/// Which standard vocabulary a field draws from; each has its own word list and URI shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VocabularyKind {
    /// `bizStep` (CBV `BizStep-`, URN `urn:epcglobal:cbv:bizstep:`).
    BizStep,
    /// `disposition` and `persistentDisposition` (CBV `Disp-`, URN `urn:epcglobal:cbv:disp:`).
    Disposition,
    /// `bizTransaction` `type` (CBV `BTT-`, URN `urn:epcglobal:cbv:btt:`).
    BizTransactionType,
    /// `source` / `destination` `type` (CBV `SDT-`, URN `urn:epcglobal:cbv:sdt:`).
    SourceDestinationType,
    /// `errorDeclaration.reason` (CBV `ER-`, URN `urn:epcglobal:cbv:er:`).
    ErrorReason,
    /// `sensorReport.component` (CBV `Comp-`, URN `urn:epcglobal:cbv:comp:`).
    Component,
    /// `sensorReport.type` (GS1 Web Vocabulary `gs1:MeasurementType` individuals).
    MeasurementType,
    /// `sensorReport.exception` (GS1 Web Vocabulary `gs1:SensorAlertType` individuals).
    SensorAlertType,
}

/// The CBV Web URI namespace (`cbv:` in the EPCIS JSON-LD context).
pub const CBV_WEB_NAMESPACE: &str = "https://ref.gs1.org/cbv/";
/// The GS1 Web Vocabulary namespace (`gs1:` in the EPCIS 2.0.0 JSON-LD context).
pub const GS1_VOC_NAMESPACE: &str = "https://gs1.org/voc/";
/// The newer GS1 Web Vocabulary host; accepted on input as the same terms.
pub const GS1_REF_VOC_NAMESPACE: &str = "https://ref.gs1.org/voc/";

impl VocabularyKind {
    /// Every kind, for tests and tables.
    pub const ALL: [VocabularyKind; 8] = [
        Self::BizStep,
        Self::Disposition,
        Self::BizTransactionType,
        Self::SourceDestinationType,
        Self::ErrorReason,
        Self::Component,
        Self::MeasurementType,
        Self::SensorAlertType,
    ];

    /// The standard words of this vocabulary, as written bare in JSON-LD.
    pub fn words(self) -> &'static [&'static str] {
        match self {
            Self::BizStep => BIZ_STEPS,
            Self::Disposition => DISPOSITIONS,
            Self::BizTransactionType => BIZ_TRANSACTION_TYPES,
            Self::SourceDestinationType => SOURCE_DESTINATION_TYPES,
            Self::ErrorReason => ERROR_REASONS,
            Self::Component => COMPONENTS,
            Self::MeasurementType => MEASUREMENT_TYPES,
            Self::SensorAlertType => SENSOR_ALERT_TYPES,
        }
    }

    /// Whether `word` is one of this vocabulary's standard words (case-sensitive).
    pub fn contains(self, word: &str) -> bool {
        self.words().contains(&word)
    }

    /// The Web URI prefix a standard word is appended to
    /// (`https://ref.gs1.org/cbv/BizStep-`, `https://gs1.org/voc/`).
    pub fn web_uri_prefix(self) -> &'static str {
        match self {
            Self::BizStep => "https://ref.gs1.org/cbv/BizStep-",
            Self::Disposition => "https://ref.gs1.org/cbv/Disp-",
            Self::BizTransactionType => "https://ref.gs1.org/cbv/BTT-",
            Self::SourceDestinationType => "https://ref.gs1.org/cbv/SDT-",
            Self::ErrorReason => "https://ref.gs1.org/cbv/ER-",
            Self::Component => "https://ref.gs1.org/cbv/Comp-",
            Self::MeasurementType | Self::SensorAlertType => GS1_VOC_NAMESPACE,
        }
    }

    /// The CBV term prefix inside the `cbv:` namespace (`BizStep-`), `None` for the GS1 Web
    /// Vocabulary kinds.
    fn cbv_term_prefix(self) -> Option<&'static str> {
        match self {
            Self::BizStep => Some("BizStep-"),
            Self::Disposition => Some("Disp-"),
            Self::BizTransactionType => Some("BTT-"),
            Self::SourceDestinationType => Some("SDT-"),
            Self::ErrorReason => Some("ER-"),
            Self::Component => Some("Comp-"),
            Self::MeasurementType | Self::SensorAlertType => None,
        }
    }

    /// The EPC URN prefix of this vocabulary (`urn:epcglobal:cbv:bizstep:`), `None` for the GS1
    /// Web Vocabulary kinds, which have no URN form.
    pub fn urn_prefix(self) -> Option<&'static str> {
        match self {
            Self::BizStep => Some("urn:epcglobal:cbv:bizstep:"),
            Self::Disposition => Some("urn:epcglobal:cbv:disp:"),
            Self::BizTransactionType => Some("urn:epcglobal:cbv:btt:"),
            Self::SourceDestinationType => Some("urn:epcglobal:cbv:sdt:"),
            Self::ErrorReason => Some("urn:epcglobal:cbv:er:"),
            Self::Component => Some("urn:epcglobal:cbv:comp:"),
            Self::MeasurementType | Self::SensorAlertType => None,
        }
    }

    /// The standard word `written` denotes, in any of its spellings: bare word, CBV Web URI,
    /// `cbv:`/`gs1:` CURIE, EPC URN, or (for the GS1 kinds) either GS1 vocabulary host.
    /// `None` when `written` is not a standard value of this vocabulary.
    pub fn standard_word(self, written: &str) -> Option<&'static str> {
        let candidate = self.strip_standard_spelling(written).unwrap_or(written);
        self.words().iter().copied().find(|word| *word == candidate)
    }

    /// `written` without the URI/CURIE/URN prefix of this vocabulary, if it has one.
    fn strip_standard_spelling(self, written: &str) -> Option<&str> {
        if let Some(rest) = written.strip_prefix(self.web_uri_prefix()) {
            return Some(rest);
        }
        if let Some(urn_prefix) = self.urn_prefix()
            && let Some(rest) = written.strip_prefix(urn_prefix)
        {
            return Some(rest);
        }
        match self.cbv_term_prefix() {
            Some(term_prefix) => written.strip_prefix("cbv:")?.strip_prefix(term_prefix),
            None => {
                written.strip_prefix("gs1:").or_else(|| written.strip_prefix(GS1_REF_VOC_NAMESPACE))
            }
        }
    }

    /// Whether `written` claims to be a term of this standard vocabulary: an EPC URN
    /// `urn:epcglobal:cbv:…` (the schema reserves those), or this vocabulary's own Web URI / CURIE
    /// term prefix (`https://ref.gs1.org/cbv/BizStep-…`, `cbv:BizStep-…`). Such a value must be a
    /// standard word; custom values have to live in their own namespace.
    pub fn claims_standard_namespace(self, written: &str) -> bool {
        let claims_cbv_term = self.cbv_term_prefix().is_some_and(|term_prefix| {
            written.strip_prefix("cbv:").is_some_and(|term| term.starts_with(term_prefix))
        });
        written.to_ascii_lowercase().starts_with("urn:epcglobal:cbv:")
            || (self.cbv_term_prefix().is_some() && written.starts_with(self.web_uri_prefix()))
            || claims_cbv_term
    }

    /// Whether a bare word outside [`Self::words`] is still a term of this vocabulary. True only
    /// for measurement types: the GS1 Web Vocabulary keeps adding them (`EffectiveDoseRate`), so
    /// a bare word that looks like a term is read as `gs1:<word>`.
    pub fn accepts_unlisted_bare_words(self) -> bool {
        self == Self::MeasurementType
    }

    /// The field name this kind is reported under in error messages.
    pub fn field_name(self) -> &'static str {
        match self {
            Self::BizStep => "bizStep",
            Self::Disposition => "disposition",
            Self::BizTransactionType => "bizTransaction type",
            Self::SourceDestinationType => "source/destination type",
            Self::ErrorReason => "reason",
            Self::Component => "component",
            Self::MeasurementType => "sensorReport type",
            Self::SensorAlertType => "exception",
        }
    }
}

/// CBV 2.0 business steps (41).
pub const BIZ_STEPS: &[&str] = &[
    "accepting",
    "arriving",
    "assembling",
    "collecting",
    "commissioning",
    "consigning",
    "creating_class_instance",
    "cycle_counting",
    "decommissioning",
    "departing",
    "destroying",
    "disassembling",
    "dispensing",
    "encoding",
    "entering_exiting",
    "holding",
    "inspecting",
    "installing",
    "killing",
    "loading",
    "other",
    "packing",
    "picking",
    "receiving",
    "removing",
    "repackaging",
    "repairing",
    "replacing",
    "reserving",
    "retail_selling",
    "sampling",
    "sensor_reporting",
    "shipping",
    "staging_outbound",
    "stock_taking",
    "stocking",
    "storing",
    "transporting",
    "unloading",
    "unpacking",
    "void_shipping",
];

/// CBV 2.0 dispositions (33).
pub const DISPOSITIONS: &[&str] = &[
    "active",
    "available",
    "completeness_verified",
    "completeness_inferred",
    "conformant",
    "container_closed",
    "container_open",
    "damaged",
    "destroyed",
    "dispensed",
    "disposed",
    "encoded",
    "expired",
    "in_progress",
    "in_transit",
    "inactive",
    "mismatch_instance",
    "mismatch_class",
    "mismatch_quantity",
    "needs_replacement",
    "no_pedigree_match",
    "non_conformant",
    "non_sellable_other",
    "partially_dispensed",
    "recalled",
    "reserved",
    "retail_sold",
    "returned",
    "sellable_accessible",
    "sellable_not_accessible",
    "stolen",
    "unavailable",
    "unknown",
];

/// CBV 2.0 business transaction types (13).
pub const BIZ_TRANSACTION_TYPES: &[&str] = &[
    "bol",
    "cert",
    "desadv",
    "inv",
    "pedigree",
    "po",
    "poc",
    "prodorder",
    "recadv",
    "rma",
    "testprd",
    "testres",
    "upevt",
];

/// CBV 2.0 source/destination types (3).
pub const SOURCE_DESTINATION_TYPES: &[&str] = &["owning_party", "possessing_party", "location"];

/// CBV 2.0 error reasons (2).
pub const ERROR_REASONS: &[&str] = &["did_not_occur", "incorrect_data"];

/// CBV 2.0 sensor components (14).
pub const COMPONENTS: &[&str] = &[
    "x",
    "y",
    "z",
    "axial_distance",
    "azimuth",
    "height",
    "spherical_radius",
    "polar_angle",
    "elevation_angle",
    "easting",
    "northing",
    "latitude",
    "longitude",
    "altitude",
];

/// GS1 Web Vocabulary measurement types usable as `sensorReport.type` (72, from the EPCIS 2.0.0
/// JSON-LD context).
pub const MEASUREMENT_TYPES: &[&str] = &[
    "AbsoluteHumidity",
    "AbsorbedDose",
    "AbsorbedDoseRate",
    "Acceleration",
    "Radioactivity",
    "Altitude",
    "AmountOfSubstance",
    "AmountOfSubstancePerUnitVolume",
    "Angle",
    "AngularAcceleration",
    "AngularMomentum",
    "AngularVelocity",
    "Area",
    "Capacitance",
    "Conductance",
    "Conductivity",
    "Count",
    "Density",
    "Dimensionless",
    "DoseEquivalent",
    "DoseEquivalentRate",
    "DynamicViscosity",
    "ElectricCharge",
    "ElectricCurrent",
    "ElectricCurrentDensity",
    "ElectricFieldStrength",
    "Energy",
    "Exposure",
    "Force",
    "Frequency",
    "Illuminance",
    "Inductance",
    "Irradiance",
    "KinematicViscosity",
    "Length",
    "LinearMomentum",
    "Luminance",
    "LuminousFlux",
    "LuminousIntensity",
    "MagneticFlux",
    "MagneticFluxDensity",
    "MagneticVectorPotential",
    "Mass",
    "MassConcentration",
    "MassFlowRate",
    "MassPerAreaTime",
    "MemoryCapacity",
    "MolalityOfSolute",
    "MolarEnergy",
    "MolarMass",
    "MolarVolume",
    "Power",
    "Pressure",
    "RadiantFlux",
    "RadiantIntensity",
    "RelativeHumidity",
    "Resistance",
    "Resistivity",
    "SolidAngle",
    "SpecificVolume",
    "Speed",
    "SurfaceDensity",
    "SurfaceTension",
    "Temperature",
    "Time",
    "Torque",
    "Voltage",
    "Volume",
    "VolumeFlowRate",
    "VolumeFraction",
    "VolumetricFlux",
    "Wavenumber",
];

/// GS1 Web Vocabulary sensor alert types usable as `sensorReport.exception` (2).
pub const SENSOR_ALERT_TYPES: &[&str] = &["ALARM_CONDITION", "ERROR_CONDITION"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_sizes_match_the_standard() {
        assert_eq!(BIZ_STEPS.len(), 41);
        assert_eq!(DISPOSITIONS.len(), 33);
        assert_eq!(BIZ_TRANSACTION_TYPES.len(), 13);
        assert_eq!(COMPONENTS.len(), 14);
        assert_eq!(MEASUREMENT_TYPES.len(), 72);
    }

    #[test]
    fn every_spelling_of_a_standard_word_is_recognised() {
        for written in [
            "shipping",
            "urn:epcglobal:cbv:bizstep:shipping",
            "https://ref.gs1.org/cbv/BizStep-shipping",
            "cbv:BizStep-shipping",
        ] {
            assert_eq!(
                VocabularyKind::BizStep.standard_word(written),
                Some("shipping"),
                "{written}"
            );
        }
        assert_eq!(VocabularyKind::BizStep.standard_word("urn:epcglobal:cbv:bizstep:flying"), None);
        assert_eq!(
            VocabularyKind::MeasurementType.standard_word("gs1:Temperature"),
            Some("Temperature")
        );
        assert!(VocabularyKind::Disposition.claims_standard_namespace("urn:epcglobal:cbv:disp:x"));
        assert!(!VocabularyKind::Disposition.claims_standard_namespace("https://example.com/d"));
    }
}
