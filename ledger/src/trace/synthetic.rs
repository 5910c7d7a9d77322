//! Seeded synthetic supply chains: realistic EPCIS event streams for tests and benchmarks.
//!
//! Owns a deterministic generator (its own xorshift PRNG; same seed, same events) of a chain of
//! farms → packers → processors → distributors → retailers: harvests with lot master data,
//! shipments and receipts paired by despatch advice, packing transformations (several inputs,
//! sometimes split into two output lots), multi-input processing (sometimes as two events
//! linked by `transformationID`), repacking, SSCC pallets packed and unpacked, retail sales
//! and destruction, shipments to consignees off the ledger, and events retracted by error
//! declarations. Optionally it injects inconsistencies (a receipt recorded twice, a
//! transformation that closes a cycle) so tests can check they are reported. Each organisation
//! also has master data ([`Chain::master_data`]): the name, address and coordinates of its
//! site and the names of the products it makes, so answers over a synthetic chain read as a
//! person would expect.
//!
//! Does not own signing or feeds: each event comes with a stand-in [`EventRef`] (author key
//! from a seeded keypair, per-author sequence, the real EPCIS Event Hash ID, and a SHA-256 of
//! those three as entry hash); callers that append to real feeds use the real entry instead.
//! Events are streamed day by day, so a million-event chain never sits in memory at once.

use std::collections::VecDeque;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::entry::{EntryHash, EntryRef};
use crate::epcis::cbv::VocabularyKind;
use crate::epcis::{
    Action, BizTransaction, Decimal, ErrorDeclaration, Event, EventType, ExtensionField,
    ExtensionValue, Location, QName, QuantityElement, SourceDestination, Timestamp,
    VocabularyValue,
};
use crate::identity::{Keypair, PublicKey};
use crate::masterdata::{Attribute, Statement, VocabularyType, attribute};

use super::event_ref::EventRef;
use super::facts::lot_link;
use super::hash_id::EventHashId;

/// Milliseconds in an hour and a day.
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// First day of every synthetic chain: 2026-01-05T00:00:00Z.
const EPOCH_MS: i64 = 1_767_571_200_000;
/// Namespace of CBV master-data attributes (`cbvmda:`).
const CBV_MDA: &str = "urn:epcglobal:cbv:mda:";

/// A small, fast, seeded PRNG (xorshift64*). Not for cryptography: it only has to make the
/// same chain from the same seed on every machine.
#[derive(Debug, Clone)]
pub struct Xorshift(u64);

impl Xorshift {
    /// A generator from `seed` (any value; zero is remapped).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut state = self.0;
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        self.0 = state;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..bound` (`0` when `bound` is 0).
    pub fn below(&mut self, bound: usize) -> usize {
        if bound == 0 {
            return 0;
        }
        (self.next_u64() % bound as u64) as usize
    }

    /// A value in `low..=high`.
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        let span = u64::try_from(high - low + 1).unwrap_or(1);
        low + i64::try_from(self.next_u64() % span).unwrap_or(0)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

/// The shape of a synthetic chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainConfig {
    /// PRNG seed: the same config gives the same events.
    pub seed: u64,
    /// Farms (harvest raw lots).
    pub farms: usize,
    /// Packers (initial packing: several farm lots into packed lots).
    pub packers: usize,
    /// Processors (multi-input transformations into products).
    pub processors: usize,
    /// Distributors (pallets, repacking).
    pub distributors: usize,
    /// Retailers (sales, destruction).
    pub retailers: usize,
    /// Days simulated (the stream may be cut earlier by the caller).
    pub days: usize,
    /// Percentage of farm-days with a harvest.
    pub harvest_percent: u64,
    /// Percentage of days an organisation records an event it then declares in error.
    pub error_percent: u64,
    /// Add a few inconsistencies (double receipts, a cycle) on purpose.
    pub inconsistencies: bool,
}

impl ChainConfig {
    /// A small chain (a few thousand events, a few hundred lots) for unit tests.
    pub fn small(seed: u64) -> Self {
        Self {
            seed,
            farms: 8,
            packers: 3,
            processors: 2,
            distributors: 2,
            retailers: 8,
            days: 20,
            harvest_percent: 70,
            error_percent: 3,
            inconsistencies: false,
        }
    }

    /// A chain large enough to yield about `events` events (take that many from the stream).
    pub fn for_events(seed: u64, events: usize) -> Self {
        let scale = (events / 50_000).clamp(1, 100);
        Self {
            seed,
            farms: 10 * scale,
            packers: 2 * scale,
            processors: scale,
            distributors: scale,
            retailers: 12 * scale,
            days: 100_000,
            harvest_percent: 70,
            error_percent: 1,
            inconsistencies: false,
        }
    }
}

/// What an organisation does in the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganisationRole {
    /// Harvests raw lots.
    Farm,
    /// Packs farm lots into packed lots.
    Packer,
    /// Makes products from several packed lots.
    Processor,
    /// Palletises, repacks and delivers to retailers.
    Distributor,
    /// Sells to consumers.
    Retailer,
}

/// One organisation of the synthetic chain.
#[derive(Debug, Clone)]
pub struct Organisation {
    /// Its role.
    pub role: OrganisationRole,
    /// Its signing key (from a seed derived from the chain seed).
    pub key: PublicKey,
    /// Its 13-digit GLN (party and main location).
    pub gln: String,
    /// Party Digital Link (`https://id.gs1.org/417/<gln>`).
    pub party: String,
    /// Location Digital Link (`https://id.gs1.org/414/<gln>`).
    pub location: String,
    /// What people call it ("Green Valley Farms", "Retailer DC Sacramento").
    pub name: String,
    /// 7-digit GS1 company prefix for its GTINs and SSCCs.
    company_prefix: String,
}

/// One generated event with the stand-in entry that carries it.
#[derive(Debug, Clone)]
pub struct SyntheticEntry {
    /// Index of the author in [`Chain::organisations`].
    pub organisation: usize,
    /// Stand-in entry reference (author, per-author sequence, entry hash, event hash id).
    pub entry: EventRef,
    /// The event.
    pub event: Event,
}

/// Some of a lot held by an organisation.
#[derive(Debug, Clone)]
struct Stock {
    lot: String,
    quantity: i64,
    uom: &'static str,
    /// Whether it came from a farm (packers only pack raw lots).
    raw: bool,
}

/// What travels in a shipment.
#[derive(Debug, Clone)]
enum Cargo {
    Lots(Vec<Stock>),
    Pallet { sscc: String, contents: Vec<Stock> },
}

#[derive(Debug, Clone)]
struct Shipment {
    from: usize,
    to: usize,
    arrive_day: usize,
    cargo: Cargo,
    document: String,
}

/// A synthetic chain: organisations and the generator state. Iterate it for the events.
#[derive(Debug)]
pub struct Chain {
    /// The organisations, by index.
    pub organisations: Vec<Organisation>,
    config: ChainConfig,
    random: Xorshift,
    day: usize,
    stock: Vec<Vec<Stock>>,
    in_transit: Vec<Shipment>,
    pending: VecDeque<SyntheticEntry>,
    sequences: Vec<u64>,
    counter: u64,
    /// Whether the deliberate cycle (inconsistencies only) was recorded already.
    cycle_recorded: bool,
}

impl Chain {
    /// A new chain; nothing is generated until iterated.
    pub fn new(config: ChainConfig) -> Self {
        let mut random = Xorshift::new(config.seed);
        let mut organisations = Vec::new();
        let roles = [
            (OrganisationRole::Farm, config.farms),
            (OrganisationRole::Packer, config.packers),
            (OrganisationRole::Processor, config.processors),
            (OrganisationRole::Distributor, config.distributors),
            (OrganisationRole::Retailer, config.retailers),
        ];
        for (role, count) in roles {
            for _ in 0..count {
                let index = organisations.len();
                let mut seed = [0u8; 32];
                seed[..8].copy_from_slice(&config.seed.to_le_bytes());
                seed[8..16].copy_from_slice(&(index as u64).to_le_bytes());
                seed[16] = 0x7c;
                let key = Keypair::from_seed(seed).public_key();
                let company_prefix = format!("{:07}", 4_000_000 + index * 7 + random.below(7));
                let gln = with_check_digit(&format!("{company_prefix}{:05}", 1));
                let name = site_name(
                    role,
                    organisations.iter().filter(|o: &&Organisation| o.role == role).count(),
                );
                organisations.push(Organisation {
                    role,
                    name,
                    key,
                    party: format!("https://id.gs1.org/417/{gln}"),
                    location: format!("https://id.gs1.org/414/{gln}"),
                    gln,
                    company_prefix,
                });
            }
        }
        let count = organisations.len();
        Self {
            organisations,
            random,
            day: 0,
            stock: vec![Vec::new(); count],
            in_transit: Vec::new(),
            pending: VecDeque::new(),
            sequences: vec![0; count],
            counter: 0,
            cycle_recorded: false,
            config,
        }
    }

    /// Master data for every organisation, in organisation order: its site (name, street,
    /// city, region, postal code, country, coordinates) and each product it makes, as the
    /// statements the organisation itself would sign.
    pub fn master_data(&self) -> Vec<(usize, Statement)> {
        let mut statements = Vec::new();
        for (index, organisation) in self.organisations.iter().enumerate() {
            let town = TOWNS[index % TOWNS.len()];
            let street = format!("{} {}", 100 + index * 17 % 900, STREETS[index % STREETS.len()]);
            // Sites of one town spread over a few kilometres.
            let latitude = town.latitude + (index % 7) as f64 * 0.011;
            let longitude = town.longitude - (index % 5) as f64 * 0.013;
            statements.push((
                index,
                statement(
                    VocabularyType::BusinessLocation,
                    &organisation.location,
                    &[
                        (attribute::NAME, organisation.name.clone()),
                        (attribute::STREET_ADDRESS_ONE, street),
                        (attribute::CITY, town.city.to_owned()),
                        (attribute::STATE, town.region.to_owned()),
                        (attribute::POSTAL_CODE, town.postal_code.to_owned()),
                        (attribute::COUNTRY_CODE, town.country.to_owned()),
                        (attribute::LATITUDE, format!("{latitude:.4}")),
                        (attribute::LONGITUDE, format!("{longitude:.4}")),
                    ],
                ),
            ));
            for (product, name) in products_of(organisation.role) {
                let gtin = self.gtin(index, *product);
                statements.push((
                    index,
                    statement(
                        VocabularyType::EpcClass,
                        &format!("https://id.gs1.org/01/{gtin}"),
                        &[(attribute::GS1_PRODUCT_NAME, (*name).to_owned())],
                    ),
                ));
            }
        }
        statements
    }

    fn of_role(&self, role: OrganisationRole) -> Vec<usize> {
        (0..self.organisations.len())
            .filter(|index| self.organisations[*index].role == role)
            .collect()
    }

    fn gtin(&self, organisation: usize, product: usize) -> String {
        let prefix = &self.organisations[organisation].company_prefix;
        with_check_digit(&format!("0{prefix}{:05}", product % 100_000))
    }

    fn time(&self, hour: i64, minute: i64) -> Timestamp {
        let time_ms = EPOCH_MS + self.day as i64 * DAY_MS + hour * HOUR_MS + minute * 60_000;
        let instant = OffsetDateTime::from_unix_timestamp_nanos(i128::from(time_ms) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        Timestamp::from_instant(instant)
    }

    /// The calendar date `days` after today (`YYYY-MM-DD`), for master data.
    fn date_after(&self, days: i64) -> String {
        let time_ms = EPOCH_MS + (self.day as i64 + days) * DAY_MS;
        let instant = OffsetDateTime::from_unix_timestamp_nanos(i128::from(time_ms) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        instant.date().to_string()
    }

    fn emit(&mut self, organisation: usize, mut event: Event) {
        self.counter += 1;
        if event.event_id.is_none() {
            event.event_id =
                Some(format!("urn:uuid:{}", uuid_like(self.config.seed, self.counter)));
        }
        let hash_id = crate::epcis::event_hash_id(&event);
        self.push(organisation, event, hash_id);
    }

    fn push(&mut self, organisation: usize, event: Event, event_hash_id: String) {
        let author = self.organisations[organisation].key;
        let sequence = self.sequences[organisation];
        self.sequences[organisation] += 1;
        let mut hasher = Sha256::new();
        hasher.update(author.as_bytes());
        hasher.update(sequence.to_be_bytes());
        hasher.update(event_hash_id.as_bytes());
        let entry_hash: [u8; 32] = hasher.finalize().into();
        let event_hash_id = EventHashId::new(&event_hash_id);
        let entry = EventRef {
            entry: EntryRef { author, sequence, entry_hash: EntryHash::from_bytes(entry_hash) },
            event_hash_id,
        };
        self.pending.push_back(SyntheticEntry { organisation, entry, event });
    }

    fn next_document(&mut self) -> String {
        self.counter += 1;
        format!("https://transactions.example.com/desadv/{}-{}", self.config.seed, self.counter)
    }

    /// Generates one day of events into `pending`.
    fn simulate_day(&mut self) {
        self.harvest();
        self.receive();
        self.pack();
        self.process();
        if self.config.inconsistencies && self.day >= 6 && !self.cycle_recorded {
            self.cycle_recorded = self.close_a_cycle();
        }
        self.distribute();
        self.ship();
        self.sell();
        self.declare_errors();
        self.day += 1;
    }

    fn harvest(&mut self) {
        for farm in self.of_role(OrganisationRole::Farm) {
            if !self.random.chance(self.config.harvest_percent) {
                continue;
            }
            let product = 1 + self.random.below(3);
            let gtin = self.gtin(farm, product);
            let lot = lot_link(&gtin, &format!("H{}-{}", self.day, self.random.below(1000)));
            let quantity = self.random.between(200, 2000);
            let mut event = self.object_event(farm, Action::Add, "commissioning", "active", 6);
            event.quantity_list = vec![quantity_element(&lot, quantity, "KGM")];
            event.ilmd = Some(vec![
                master_field("countryOfOrigin", "ES"),
                master_field("harvestStartDate", &self.date_after(0)),
            ]);
            self.emit(farm, event);
            self.stock[farm].push(Stock { lot, quantity, uom: "KGM", raw: true });
        }
    }

    fn receive(&mut self) {
        let today = self.day;
        let (arriving, later): (Vec<Shipment>, Vec<Shipment>) =
            std::mem::take(&mut self.in_transit).into_iter().partition(|s| s.arrive_day <= today);
        self.in_transit = later;
        for shipment in arriving {
            let receiver = shipment.to;
            let mut event =
                self.object_event(receiver, Action::Observe, "receiving", "in_progress", 7);
            match &shipment.cargo {
                Cargo::Lots(lots) => {
                    event.quantity_list = lots
                        .iter()
                        .map(|stock| quantity_element(&stock.lot, stock.quantity, stock.uom))
                        .collect();
                }
                Cargo::Pallet { sscc, .. } => event.epc_list = Some(vec![sscc.clone()]),
            }
            event.biz_transaction_list = vec![desadv(&shipment.document)];
            event.source_list = vec![
                endpoint("owning_party", &self.organisations[shipment.from].party),
                endpoint("location", &self.organisations[shipment.from].location),
            ];
            event.destination_list = vec![
                endpoint("owning_party", &self.organisations[receiver].party),
                endpoint("location", &self.organisations[receiver].location),
            ];
            let twice = self.config.inconsistencies && self.random.chance(2);
            if twice {
                let mut copy = event.clone();
                copy.event_time = self.time(7, 30);
                self.emit(receiver, copy);
            }
            self.emit(receiver, event);
            let contents = match shipment.cargo {
                Cargo::Lots(lots) => lots,
                Cargo::Pallet { sscc, contents } => {
                    let mut unpack = Event::new(EventType::Aggregation, self.time(8, 0));
                    unpack.action = Some(Action::Delete);
                    unpack.parent_id = Some(sscc);
                    unpack.biz_step = Some(step("unpacking"));
                    unpack.biz_location = Some(location(&self.organisations[receiver].location));
                    self.emit(receiver, unpack);
                    contents
                }
            };
            self.stock[receiver].extend(contents);
        }
    }

    fn pack(&mut self) {
        for packer in self.of_role(OrganisationRole::Packer) {
            let raw: Vec<Stock> = self.take_stock(packer, |stock| stock.raw, 3);
            if raw.is_empty() {
                continue;
            }
            let total: i64 = raw.iter().map(|stock| stock.quantity).sum();
            let cases = (total / 5).max(1);
            let product = 10 + self.random.below(2);
            let gtin = self.gtin(packer, product);
            let split = cases >= 2 && self.random.chance(30);
            let outputs: Vec<(String, i64)> = if split {
                vec![
                    (lot_link(&gtin, &format!("P{}-{}a", self.day, self.counter)), cases / 2),
                    (
                        lot_link(&gtin, &format!("P{}-{}b", self.day, self.counter)),
                        cases - cases / 2,
                    ),
                ]
            } else {
                vec![(lot_link(&gtin, &format!("P{}-{}", self.day, self.counter)), cases)]
            };
            let mut event = Event::new(EventType::Transformation, self.time(9, 0));
            event.input_quantity_list = raw
                .iter()
                .map(|stock| quantity_element(&stock.lot, stock.quantity, stock.uom))
                .collect();
            event.output_quantity_list = outputs
                .iter()
                .map(|(lot, quantity)| quantity_element(lot, *quantity, "CS"))
                .collect();
            event.biz_step = Some(step("commissioning"));
            event.disposition = Some(disposition("active"));
            event.read_point = Some(location(&self.organisations[packer].location));
            event.biz_location = Some(location(&self.organisations[packer].location));
            event.ilmd = Some(vec![
                master_field("packingDate", &self.date_after(0)),
                master_field("bestBeforeDate", &self.date_after(21)),
            ]);
            self.emit(packer, event);
            for (lot, quantity) in outputs {
                self.stock[packer].push(Stock { lot, quantity, uom: "CS", raw: false });
            }
        }
    }

    fn process(&mut self) {
        for processor in self.of_role(OrganisationRole::Processor) {
            if self.stock[processor].len() < 2 {
                continue;
            }
            let wanted = 2 + self.random.below(3);
            let mut inputs = Vec::new();
            for _ in 0..wanted.min(self.stock[processor].len()) {
                let pick = self.random.below(self.stock[processor].len());
                let stock = &mut self.stock[processor][pick];
                if inputs.iter().any(|input: &Stock| input.lot == stock.lot) {
                    continue;
                }
                let used = if stock.quantity > 1 { stock.quantity / 2 } else { stock.quantity };
                stock.quantity -= used;
                inputs.push(Stock {
                    lot: stock.lot.clone(),
                    quantity: used,
                    uom: stock.uom,
                    raw: false,
                });
            }
            self.stock[processor].retain(|stock| stock.quantity > 0);
            let total: i64 = inputs.iter().map(|stock| stock.quantity).sum();
            let product = 20 + self.random.below(3);
            let gtin = self.gtin(processor, product);
            let output = lot_link(&gtin, &format!("M{}-{}", self.day, self.counter));
            let made = (total * 2).max(1);
            let input_list: Vec<QuantityElement> = inputs
                .iter()
                .map(|stock| quantity_element(&stock.lot, stock.quantity, stock.uom))
                .collect();
            let output_list = vec![quantity_element(&output, made, "CS")];
            let place = self.organisations[processor].location.clone();
            if self.random.chance(30) {
                let transformation_id =
                    format!("urn:uuid:{}", uuid_like(self.config.seed ^ 0x55, self.counter));
                let mut consume = Event::new(EventType::Transformation, self.time(10, 0));
                consume.transformation_id = Some(transformation_id.clone());
                consume.input_quantity_list = input_list;
                consume.biz_step = Some(step("commissioning"));
                consume.biz_location = Some(location(&place));
                self.emit(processor, consume);
                let mut produce = Event::new(EventType::Transformation, self.time(10, 30));
                produce.transformation_id = Some(transformation_id);
                produce.output_quantity_list = output_list;
                produce.biz_step = Some(step("commissioning"));
                produce.biz_location = Some(location(&place));
                self.emit(processor, produce);
            } else {
                let mut event = Event::new(EventType::Transformation, self.time(10, 0));
                event.input_quantity_list = input_list;
                event.output_quantity_list = output_list;
                event.biz_step = Some(step("commissioning"));
                event.biz_location = Some(location(&place));
                event.ilmd = Some(vec![master_field("itemExpirationDate", &self.date_after(14))]);
                self.emit(processor, event);
            }
            self.stock[processor].push(Stock {
                lot: output,
                quantity: made,
                uom: "CS",
                raw: false,
            });
        }
    }

    fn distribute(&mut self) {
        for distributor in self.of_role(OrganisationRole::Distributor) {
            // Repack now and then: a new lot code from a received lot.
            if !self.stock[distributor].is_empty() && self.random.chance(10) {
                let pick = self.random.below(self.stock[distributor].len());
                let stock = self.stock[distributor].remove(pick);
                let gtin = self.gtin(distributor, 30);
                let repacked = lot_link(&gtin, &format!("R{}-{}", self.day, self.counter));
                let mut event = Event::new(EventType::Transformation, self.time(11, 0));
                event.input_quantity_list =
                    vec![quantity_element(&stock.lot, stock.quantity, stock.uom)];
                event.output_quantity_list =
                    vec![quantity_element(&repacked, stock.quantity, stock.uom)];
                event.biz_step = Some(step("repackaging"));
                event.biz_location = Some(location(&self.organisations[distributor].location));
                self.emit(distributor, event);
                self.stock[distributor].push(Stock { lot: repacked, raw: false, ..stock });
            }
        }
    }

    fn ship(&mut self) {
        let packers = self.of_role(OrganisationRole::Packer);
        let processors = self.of_role(OrganisationRole::Processor);
        let distributors = self.of_role(OrganisationRole::Distributor);
        let retailers = self.of_role(OrganisationRole::Retailer);
        for sender in 0..self.organisations.len() {
            let role = self.organisations[sender].role;
            match role {
                OrganisationRole::Farm => {
                    let lots = std::mem::take(&mut self.stock[sender]);
                    for stock in lots {
                        let to = packers[self.random.below(packers.len())];
                        self.send(sender, to, Cargo::Lots(vec![stock]));
                    }
                }
                OrganisationRole::Packer | OrganisationRole::Processor => {
                    let ready = self.take_stock(sender, |stock| !stock.raw, usize::MAX);
                    for stock in ready {
                        let customers =
                            if role == OrganisationRole::Packer && self.random.chance(40) {
                                &processors
                            } else {
                                &distributors
                            };
                        if role == OrganisationRole::Processor && self.random.chance(5) {
                            self.send_off_ledger(sender, stock);
                            continue;
                        }
                        if stock.quantity >= 2 && self.random.chance(30) {
                            let half = stock.quantity / 2;
                            let first = customers[self.random.below(customers.len())];
                            let second = customers[self.random.below(customers.len())];
                            let part = Stock { quantity: half, ..stock.clone() };
                            self.send(sender, first, Cargo::Lots(vec![part]));
                            let rest = Stock { quantity: stock.quantity - half, ..stock };
                            self.send(sender, second, Cargo::Lots(vec![rest]));
                        } else {
                            let to = customers[self.random.below(customers.len())];
                            self.send(sender, to, Cargo::Lots(vec![stock]));
                        }
                    }
                }
                OrganisationRole::Distributor => {
                    while !self.stock[sender].is_empty() {
                        let take = 1 + self.random.below(4);
                        let mut contents = Vec::new();
                        for _ in 0..take {
                            if self.stock[sender].is_empty() {
                                break;
                            }
                            let pick = self.random.below(self.stock[sender].len());
                            let stock = &mut self.stock[sender][pick];
                            let part = if stock.quantity > 3 {
                                stock.quantity / 2
                            } else {
                                stock.quantity
                            };
                            stock.quantity -= part;
                            contents.push(Stock { quantity: part, ..stock.clone() });
                            self.stock[sender].retain(|stock| stock.quantity > 0);
                        }
                        merge_stock(&mut contents);
                        let sscc = self.next_sscc(sender);
                        let mut pack = Event::new(EventType::Aggregation, self.time(11, 30));
                        pack.action = Some(Action::Add);
                        pack.parent_id = Some(sscc.clone());
                        pack.child_quantity_list = contents
                            .iter()
                            .map(|stock| quantity_element(&stock.lot, stock.quantity, stock.uom))
                            .collect();
                        pack.biz_step = Some(step("packing"));
                        pack.biz_location = Some(location(&self.organisations[sender].location));
                        self.emit(sender, pack);
                        let to = retailers[self.random.below(retailers.len())];
                        self.send(sender, to, Cargo::Pallet { sscc, contents });
                    }
                }
                OrganisationRole::Retailer => {}
            }
        }
    }

    fn send(&mut self, from: usize, to: usize, cargo: Cargo) {
        let document = self.next_document();
        let mut event = self.object_event(from, Action::Observe, "shipping", "in_transit", 12);
        match &cargo {
            Cargo::Lots(lots) => {
                event.quantity_list = lots
                    .iter()
                    .map(|stock| quantity_element(&stock.lot, stock.quantity, stock.uom))
                    .collect();
            }
            Cargo::Pallet { sscc, .. } => event.epc_list = Some(vec![sscc.clone()]),
        }
        event.biz_transaction_list = vec![desadv(&document)];
        event.source_list = vec![
            endpoint("owning_party", &self.organisations[from].party),
            endpoint("location", &self.organisations[from].location),
        ];
        event.destination_list = vec![
            endpoint("owning_party", &self.organisations[to].party),
            endpoint("location", &self.organisations[to].location),
        ];
        self.emit(from, event);
        let arrive_day = self.day + 1 + self.random.below(2);
        self.in_transit.push(Shipment { from, to, arrive_day, cargo, document });
    }

    fn send_off_ledger(&mut self, from: usize, stock: Stock) {
        let document = self.next_document();
        let export_gln = with_check_digit(&format!("{:012}", 990_000_000_000u64 + self.counter));
        let mut event = self.object_event(from, Action::Observe, "shipping", "in_transit", 12);
        event.quantity_list = vec![quantity_element(&stock.lot, stock.quantity, stock.uom)];
        event.biz_transaction_list = vec![desadv(&document)];
        event.source_list = vec![endpoint("location", &self.organisations[from].location)];
        event.destination_list = vec![
            endpoint("owning_party", &format!("https://id.gs1.org/417/{export_gln}")),
            endpoint("location", &format!("https://id.gs1.org/414/{export_gln}")),
        ];
        self.emit(from, event);
    }

    fn sell(&mut self) {
        for retailer in self.of_role(OrganisationRole::Retailer) {
            let lots = std::mem::take(&mut self.stock[retailer]);
            let mut kept = Vec::new();
            for (minute, mut stock) in lots.into_iter().enumerate() {
                let minute = (minute % 60) as i64;
                if self.random.chance(3) {
                    let mut event =
                        self.object_event(retailer, Action::Observe, "destroying", "destroyed", 15);
                    event.event_time = self.time(15, minute);
                    event.quantity_list =
                        vec![quantity_element(&stock.lot, stock.quantity, stock.uom)];
                    self.emit(retailer, event);
                    continue;
                }
                if !self.random.chance(60) {
                    kept.push(stock);
                    continue;
                }
                let sold = self.random.between(1, stock.quantity.max(1));
                let mut event = self.object_event(
                    retailer,
                    Action::Observe,
                    "retail_selling",
                    "retail_sold",
                    15,
                );
                event.quantity_list = vec![quantity_element(&stock.lot, sold, stock.uom)];
                self.emit(retailer, event);
                stock.quantity -= sold;
                if stock.quantity > 0 {
                    kept.push(stock);
                }
            }
            self.stock[retailer] = kept;
        }
    }

    /// An organisation records a wrong shipment and declares it in error the same day.
    fn declare_errors(&mut self) {
        for organisation in 0..self.organisations.len() {
            if self.stock[organisation].is_empty() || !self.random.chance(self.config.error_percent)
            {
                continue;
            }
            let pick = self.random.below(self.stock[organisation].len());
            let stock = self.stock[organisation][pick].clone();
            let wrong_to = self.random.below(self.organisations.len());
            let mut wrong =
                self.object_event(organisation, Action::Observe, "shipping", "in_transit", 16);
            wrong.quantity_list = vec![quantity_element(&stock.lot, stock.quantity + 7, stock.uom)];
            wrong.destination_list = vec![
                endpoint("owning_party", &self.organisations[wrong_to].party),
                endpoint("location", &self.organisations[wrong_to].location),
            ];
            self.counter += 1;
            let event_id = format!("urn:uuid:{}", uuid_like(self.config.seed ^ 0xE0, self.counter));
            wrong.event_id = Some(event_id.clone());
            let hash_id = crate::epcis::event_hash_id(&wrong);
            let mut declaration = wrong.clone();
            declaration.error_declaration = Some(ErrorDeclaration {
                declaration_time: self.time(17, 0),
                reason: Some(VocabularyValue::new(VocabularyKind::ErrorReason, "incorrect_data")),
                corrective_event_ids: Vec::new(),
                extensions: Vec::new(),
            });
            self.push(organisation, wrong, hash_id.clone());
            self.push(organisation, declaration, hash_id);
        }
    }

    /// A processor records, by mistake, that a lot it made from one of its stock lots went back
    /// into that stock lot: a two-step cycle in the transformation graph.
    fn close_a_cycle(&mut self) -> bool {
        let processors = self.of_role(OrganisationRole::Processor);
        let Some(processor) =
            processors.into_iter().find(|processor| !self.stock[*processor].is_empty())
        else {
            return false;
        };
        let Some(stock) = self.stock[processor].first().cloned() else { return false };
        let gtin = self.gtin(processor, 29);
        let middle = lot_link(&gtin, &format!("C{}-{}", self.day, self.counter));
        let place = self.organisations[processor].location.clone();
        for (hour, input, output) in [(13, &stock.lot, &middle), (14, &middle, &stock.lot)] {
            let mut event = Event::new(EventType::Transformation, self.time(hour, 0));
            event.input_quantity_list = vec![quantity_element(input, 1, stock.uom)];
            event.output_quantity_list = vec![quantity_element(output, 1, stock.uom)];
            event.biz_step = Some(step("commissioning"));
            event.biz_location = Some(location(&place));
            self.emit(processor, event);
        }
        true
    }

    fn object_event(
        &self,
        organisation: usize,
        action: Action,
        biz_step: &str,
        biz_disposition: &str,
        hour: i64,
    ) -> Event {
        let mut event = Event::new(EventType::Object, self.time(hour, 0));
        event.action = Some(action);
        event.biz_step = Some(step(biz_step));
        event.disposition = Some(disposition(biz_disposition));
        event.read_point = Some(location(&self.organisations[organisation].location));
        event.biz_location = Some(location(&self.organisations[organisation].location));
        event
    }

    fn take_stock(
        &mut self,
        organisation: usize,
        wanted: impl Fn(&Stock) -> bool,
        limit: usize,
    ) -> Vec<Stock> {
        let mut taken = Vec::new();
        let mut kept = Vec::new();
        for stock in std::mem::take(&mut self.stock[organisation]) {
            if taken.len() < limit && wanted(&stock) {
                taken.push(stock);
            } else {
                kept.push(stock);
            }
        }
        self.stock[organisation] = kept;
        taken
    }

    fn next_sscc(&mut self, organisation: usize) -> String {
        self.counter += 1;
        let prefix = &self.organisations[organisation].company_prefix;
        let serial = self.counter % 1_000_000_000;
        format!("https://id.gs1.org/00/{}", with_check_digit(&format!("0{prefix}{serial:09}")))
    }
}

impl Iterator for Chain {
    type Item = SyntheticEntry;

    fn next(&mut self) -> Option<SyntheticEntry> {
        while self.pending.is_empty() {
            if self.day >= self.config.days {
                return None;
            }
            self.simulate_day();
        }
        self.pending.pop_front()
    }
}

/// Generates a whole (small) chain into memory.
pub fn generate(config: ChainConfig) -> (Vec<Organisation>, Vec<SyntheticEntry>) {
    let mut chain = Chain::new(config);
    let entries: Vec<SyntheticEntry> = chain.by_ref().collect();
    (chain.organisations, entries)
}

fn uuid_like(seed: u64, counter: u64) -> String {
    let digest = Sha256::digest([seed.to_be_bytes(), counter.to_be_bytes()].concat());
    let hex = hex::encode(&digest[..16]);
    format!("{}-{}-4{}-8{}-{}", &hex[..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

/// `digits` followed by its GS1 mod-10 check digit.
fn with_check_digit(digits: &str) -> String {
    let weighted: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(position, byte)| {
            let digit = u32::from(byte - b'0');
            if position % 2 == 0 { digit * 3 } else { digit }
        })
        .sum();
    format!("{digits}{}", (10 - weighted % 10) % 10)
}

fn merge_stock(contents: &mut Vec<Stock>) {
    let mut merged: Vec<Stock> = Vec::new();
    for stock in contents.drain(..) {
        match merged.iter_mut().find(|existing| existing.lot == stock.lot) {
            Some(existing) => existing.quantity += stock.quantity,
            None => merged.push(stock),
        }
    }
    *contents = merged;
}

fn quantity_element(class: &str, quantity: i64, uom: &str) -> QuantityElement {
    QuantityElement {
        epc_class: class.to_owned(),
        quantity: Decimal::parse(&quantity.to_string()),
        uom: Some(uom.to_owned()),
    }
}

fn step(word: &str) -> VocabularyValue {
    VocabularyValue::new(VocabularyKind::BizStep, word)
}

fn disposition(word: &str) -> VocabularyValue {
    VocabularyValue::new(VocabularyKind::Disposition, word)
}

fn location(id: &str) -> Location {
    Location { id: id.to_owned(), extensions: Vec::new() }
}

fn endpoint(kind: &str, id: &str) -> SourceDestination {
    SourceDestination {
        source_destination_type: VocabularyValue::new(VocabularyKind::SourceDestinationType, kind),
        id: id.to_owned(),
    }
}

fn desadv(document: &str) -> BizTransaction {
    BizTransaction {
        transaction_type: Some(VocabularyValue::new(VocabularyKind::BizTransactionType, "desadv")),
        value: document.to_owned(),
    }
}

fn master_field(local_name: &str, value: &str) -> ExtensionField {
    ExtensionField {
        name: QName::new(CBV_MDA, Some("cbvmda".to_owned()), local_name),
        value: ExtensionValue::Text(value.to_owned()),
    }
}

/// A town where synthetic sites stand.
#[derive(Clone, Copy)]
struct Town {
    city: &'static str,
    region: &'static str,
    postal_code: &'static str,
    country: &'static str,
    latitude: f64,
    longitude: f64,
}

/// Produce country and the cities its lettuce goes through.
const TOWNS: [Town; 6] = [
    Town {
        city: "Salinas",
        region: "CA",
        postal_code: "93901",
        country: "US",
        latitude: 36.6777,
        longitude: -121.6555,
    },
    Town {
        city: "Watsonville",
        region: "CA",
        postal_code: "95076",
        country: "US",
        latitude: 36.9102,
        longitude: -121.7569,
    },
    Town {
        city: "Yuma",
        region: "AZ",
        postal_code: "85364",
        country: "US",
        latitude: 32.6927,
        longitude: -114.6277,
    },
    Town {
        city: "Sacramento",
        region: "CA",
        postal_code: "95814",
        country: "US",
        latitude: 38.5816,
        longitude: -121.4944,
    },
    Town {
        city: "Fresno",
        region: "CA",
        postal_code: "93721",
        country: "US",
        latitude: 36.7378,
        longitude: -119.7871,
    },
    Town {
        city: "Reno",
        region: "NV",
        postal_code: "89501",
        country: "US",
        latitude: 39.5296,
        longitude: -119.8138,
    },
];

/// Street names for synthetic addresses.
const STREETS: [&str; 5] =
    ["Abbott Street", "Harvest Road", "Market Avenue", "Industrial Way", "River Drive"];

/// Site names by role; a role with more sites than names numbers them.
fn site_name(role: OrganisationRole, nth: usize) -> String {
    let names: &[&str] = match role {
        OrganisationRole::Farm => &[
            "Green Valley Farms",
            "Salinas Ridge Growers",
            "Sunny Acres Produce",
            "Riverbend Organics",
        ],
        OrganisationRole::Packer => &["Coastal Cooling & Packing", "Valley Fresh Packhouse"],
        OrganisationRole::Processor => &["FreshCut Salads", "Leafline Processing"],
        OrganisationRole::Distributor => &["Retailer DC Sacramento", "Sierra Foods Distribution"],
        OrganisationRole::Retailer => {
            &["Corner Market", "FreshMart", "Green Grocer", "Harbor Foods"]
        }
    };
    let base = names[nth % names.len()];
    match nth / names.len() {
        0 => base.to_owned(),
        round => format!("{base} {}", round + 1),
    }
}

/// The products each role makes, by the product number its GTINs use.
fn products_of(role: OrganisationRole) -> &'static [(usize, &'static str)] {
    match role {
        OrganisationRole::Farm => &[
            (1, "Romaine lettuce, field-packed"),
            (2, "Iceberg lettuce, field-packed"),
            (3, "Baby spinach, field-packed"),
        ],
        OrganisationRole::Packer => {
            &[(10, "Romaine lettuce, 1 kg bag"), (11, "Baby spinach, 250 g bag")]
        }
        OrganisationRole::Processor => &[
            (20, "Salad mix, 500 g bag"),
            (21, "Caesar salad kit, 350 g"),
            (22, "Chopped salad, 300 g"),
            (29, "Salad base, 5 kg case"),
        ],
        OrganisationRole::Distributor => &[(30, "Mixed greens, repacked case")],
        OrganisationRole::Retailer => &[],
    }
}

/// A canonical statement (attributes sorted) about `id`.
fn statement(
    vocabulary_type: VocabularyType,
    id: &str,
    attributes: &[(&str, String)],
) -> Statement {
    let mut attributes: Vec<Attribute> = attributes
        .iter()
        .map(|(id, value)| Attribute { id: (*id).to_owned(), value: value.clone() })
        .collect();
    attributes.sort();
    Statement { vocabulary_type, id: id.to_owned(), attributes, children: Vec::new() }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::masterdata::Directory;
    use crate::trace::facts::Facts;

    #[test]
    fn every_site_and_every_product_of_a_chain_has_a_canonical_named_statement() {
        let mut chain = Chain::new(ChainConfig::small(11));
        let master_data = chain.master_data();
        let mut directory = Directory::new();
        for (sequence, (organisation, statement)) in master_data.iter().enumerate() {
            statement.check_canonical().unwrap();
            let author = chain.organisations[*organisation].key;
            let entry_hash = EntryHash::from_bytes(Sha256::digest(statement.id.as_bytes()).into());
            directory.insert(
                EntryRef { author, sequence: sequence as u64, entry_hash },
                0,
                statement.clone(),
            );
        }
        let names: BTreeSet<&str> =
            chain.organisations.iter().map(|organisation| organisation.name.as_str()).collect();
        assert_eq!(names.len(), chain.organisations.len(), "every site has a name of its own");
        for organisation in &chain.organisations {
            let site = &directory.name_of(&organisation.location).unwrap().statement;
            assert_eq!(site.name(), Some(organisation.name.as_str()));
            assert!(site.place().unwrap().contains(", US"));
            assert!(site.coordinates().is_some());
        }
        let lots: BTreeSet<String> = chain
            .by_ref()
            .flat_map(|synthetic| Facts::from_event(&synthetic.event).lots())
            .map(|lot| lot.to_string())
            .collect();
        assert!(!lots.is_empty());
        for lot in lots.iter().filter(|lot| lot.starts_with("https://id.gs1.org/01/")) {
            let product = directory.name_of(lot).unwrap_or_else(|| panic!("{lot} has no name"));
            assert!(product.statement.name().is_some());
        }
    }
}
