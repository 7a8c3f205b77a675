import type { SeededRandom } from './random';

/**
 * The brief's Proof of Concept model: bank transfers keyed by account (hash key) and create_at
 * (range key). Only `note` (and with it `update_at`) ever changes after an item is created.
 */
export interface Transaction {
  account: string;
  create_at: string;
  update_at: string;
  entity: string;
  amount: number;
  is_credit: 0 | 1;
  note: string;
}

export type TransactionKey = Pick<Transaction, 'account' | 'create_at'>;

export const TRANSACTION_HASH_KEY = 'account';
export const TRANSACTION_RANGE_KEY = 'create_at';

/** The brief's first batch (the initial load before the stream takes over) had this many items. */
export const INITIAL_BATCH_SIZE = 7269;

/** Formats the brief's samples follow exactly (also used by the tests). */
export const FORMATS = {
  account: /^\d{3}-\d{3}-\d{4}$/,
  timestamp: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+0000$/,
  entity: /^[A-Z][a-z]+(?:(?:, [A-Z][a-z]+ and [A-Z][a-z]+)|(?:-[A-Z][a-z]+)|(?: (?:and Sons|Inc|LLC|Group|PLC|Ltd)))$/,
  note: /^[A-Z][a-z]*(?: [a-z]+){2,8}\.$/,
} as const;

/** `2023-07-27T22:14:26.066612+0000` for an instant in epoch microseconds (always UTC). */
export function formatTimestamp(epochMicros: bigint): string {
  const ms = Number(epochMicros / 1000n);
  const micros = String(epochMicros % 1_000_000n).padStart(6, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${micros}+0000`;
}

/**
 * A microsecond clock that never goes backwards and never repeats a value, so every write of one
 * generator gets a distinct create_at and an update's update_at is always later than the insert's.
 */
export class MicrosecondClock {
  private readonly originMicros = BigInt(Date.now()) * 1000n;
  private readonly originHr = process.hrtime.bigint();
  private last = 0n;

  nowMicros(): bigint {
    let now = this.originMicros + (process.hrtime.bigint() - this.originHr) / 1000n;
    if (now <= this.last) now = this.last + 1n;
    this.last = now;
    return now;
  }

  nowTimestamp(): string {
    return formatTimestamp(this.nowMicros());
  }
}

/** The values of a new transaction except its timestamps, which are taken when it is written. */
export type TransactionValues = Omit<Transaction, 'create_at' | 'update_at'>;

export function randomAccount(rng: SeededRandom): string {
  return `${rng.digits(3)}-${rng.digits(3)}-${rng.digits(4)}`;
}

/** Company names in the brief's style: "Brown, Christian and Becker", "Burke-Anderson", "Bowman and Sons". */
export function randomEntity(rng: SeededRandom): string {
  const style = rng.int(0, 2);
  if (style === 0) return `${rng.pick(LAST_NAMES)}, ${rng.pick(LAST_NAMES)} and ${rng.pick(LAST_NAMES)}`;
  if (style === 1) return `${rng.pick(LAST_NAMES)}-${rng.pick(LAST_NAMES)}`;
  return `${rng.pick(LAST_NAMES)} ${rng.pick(COMPANY_SUFFIXES)}`;
}

/** A short sentence in the brief's style: "Three way peace sing town." (3 to 9 words). */
export function randomNote(rng: SeededRandom): string {
  const n = rng.int(3, 9);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(rng.pick(WORDS));
  const first = words[0]!;
  words[0] = first[0]!.toUpperCase() + first.slice(1);
  return `${words.join(' ')}.`;
}

export function randomTransactionValues(rng: SeededRandom): TransactionValues {
  return {
    account: randomAccount(rng),
    entity: randomEntity(rng),
    amount: rng.int(1, 999),
    is_credit: rng.int(0, 1) as 0 | 1,
    note: randomNote(rng),
  };
}

const COMPANY_SUFFIXES = ['and Sons', 'Inc', 'LLC', 'Group', 'PLC', 'Ltd'] as const;

const LAST_NAMES = (
  'Adams Allen Anderson Bailey Baker Barnes Becker Bell Bennett Brooks Brown Bryant Burke Butler Bowman ' +
  'Campbell Carter Castro Christian Clark Coleman Collins Cook Cooper Cox Cummings Davis Diaz Edwards ' +
  'English Evans Fisher Flores Ford Foster Garcia Gibson Gomez Gonzalez Graham Gray Green Griffin Hall ' +
  'Hamilton Harris Harrison Hartman Hayes Henderson Hernandez Hill Holmes Howard Hughes Hunt Jackson ' +
  'James Jenkins Johnson Jones Jordan Kelly Kennedy Key King Lee Lewis Long Lopez Marshall Martin ' +
  'Martinez May Mcdonald Miller Mitchell Moore Moreno Morgan Morris Murphy Myers Nelson Nguyen Owens ' +
  'Palmer Parker Patterson Pena Perez Perry Peters Phillips Powell Price Ramirez Reed Reyes Richardson ' +
  'Rivera Roberts Robinson Rodriguez Rogers Ross Russell Sanchez Sanders Scott Shaw Simmons Smith ' +
  'Sparks Stewart Stone Sullivan Taylor Thomas Thompson Torres Turner Walker Wall Wallace Ward Warren ' +
  'Washington Watson Webb Welch Wells West White Williams Wilson Wood Wright Young Zimmerman'
).split(' ');

const WORDS = (
  'ability able about above accept across act add admit after again against agent agree air all allow ' +
  'almost along already also always among and animal another answer any appear apply area argue arm ' +
  'around art article ask assume attack avoid away baby back bad bank bar base be beat beautiful ' +
  'because become bed before begin behind believe best better between beyond big bill black blood blue ' +
  'board body book both box boy break bring brother budget build business buy call camera campaign can ' +
  'capital car card care carry case catch cause center central century certain chair chance change ' +
  'charge check child choice choose church city civil claim class clear close coach cold college color ' +
  'common company concern consider control cost could country couple course court cover create crime ' +
  'cultural cup current customer cut dark data daughter day dead deal debate decade decide deep defense ' +
  'degree democratic describe design detail determine develop die difference dinner direction discover ' +
  'discuss do doctor dog door down draw dream drive drop drug during each early east easy eat economy ' +
  'edge effect effort eight either election else employee end energy enjoy enough enter entire even ' +
  'evening event ever every everybody evidence exactly example expect expert explain eye face fact fall ' +
  'family far fast father fear feel few field fight figure fill film final find fine finish fire firm ' +
  'first fish five floor fly focus follow food foot force forget form forward four free friend front ' +
  'full fund future game garden gas general get girl give glass go goal good great green ground group ' +
  'grow guess gun hair half hand hang happen hard have head health hear heart heavy help here high ' +
  'history hit hold home hope hospital hot hotel hour house however huge human husband idea identify ' +
  'image imagine impact important improve include increase indeed indicate industry information inside ' +
  'instead interest interview investment involve issue item itself job join just keep key kid kind ' +
  'kitchen know land language large last late later laugh law lawyer lay lead leader learn least leave ' +
  'left leg less letter level lie life light like likely line list listen little live local long look ' +
  'lose loss lot low machine magazine main maintain major majority make manage manager many market ' +
  'marriage material matter maybe mean measure media medical meet meeting member memory mention message ' +
  'method middle might military million mind minute miss mission model modern moment money month more ' +
  'morning most mother mouth move movement movie much music must myself name nation national natural ' +
  'nature near nearly necessary need network never new news newspaper next nice night none nor north ' +
  'not note nothing notice now number occur off offer office officer official often oil old once one ' +
  'only onto open operation opportunity option order organization other others our out outside over own ' +
  'owner page pain painting paper parent part participant particular partner party pass past patient ' +
  'pattern pay peace people per perform perhaps period person personal phone physical pick picture ' +
  'piece place plan plant play player point police policy political poor popular population position ' +
  'positive possible power practice prepare present president pressure pretty prevent price private ' +
  'probably problem process produce product production professional program project property protect ' +
  'prove provide public pull purpose push put quality question quickly quite race radio raise range ' +
  'rate rather reach read ready real reality realize really reason receive recent recently recognize ' +
  'record red reduce reflect region relate remain remember remove report represent require research ' +
  'resource respond response rest result return reveal rich right rise risk road rock role room rule ' +
  'run safe same save say scene school science score sea season seat second section security see seek ' +
  'seem sell send senior sense series serious serve service set seven several shake share short should ' +
  'shoulder show side sign significant similar simple simply since sing single sister sit site ' +
  'situation six size skill skin small smile social society soldier some somebody someone something ' +
  'sometimes son song soon sort sound source south southern space speak special specific speech spend ' +
  'sport spring staff stage stand standard star start state statement station stay step still stock ' +
  'stop store story strategy street strong structure student study stuff style subject success ' +
  'successful such suddenly suffer suggest summer support sure surface system table take talk task tax ' +
  'teach teacher team technology television tell ten tend term test than thank that the their them ' +
  'themselves then theory there these they thing think third this those though thought thousand threat ' +
  'three through throughout throw thus time today together tonight too top total tough toward town ' +
  'trade traditional training travel treat treatment tree trial trip trouble true truth try turn two ' +
  'type under understand unit until upon use usually value various very victim view violence visit ' +
  'voice vote wait walk wall want war watch water way weapon wear week weight well west western what ' +
  'whatever when where whether which while white whole whom whose why wide wife will win wind window ' +
  'wish with within without woman wonder word work worker world worry would write writer wrong yard ' +
  'yeah year yes yet you young your yourself'
).split(' ');
